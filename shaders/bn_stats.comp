#version 450
// bn_stats: training-mode batch statistics of an N x C x L tensor, one
// workgroup per channel, in one pass over the data with vec4 loads (L is a
// multiple of 4, or VEC4 is off): sums of x - x0 and its square, shifted
// by the channel's first value x0 so that a large mean cannot cancel the
// variance away. Saves mean[c] and invstd[c] = 1/sqrt(var+eps) (biased
// variance) for the backward pass; the running statistics move by
// momentum towards the batch mean and the unbiased variance, as PyTorch's
// BatchNorm2d.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool VEC4 = true;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 2) writeonly buffer Invstd { float invstd[]; };
layout(std430, binding = 3) buffer RunMean { float runMean[]; };
layout(std430, binding = 4) buffer RunVar { float runVar[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(push_constant) uniform P { uint N, C, L; float eps, momentum; };

shared float sa[256];
shared float sb[256];

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float x0 = x[c * L];
	float s = 0.0, ss = 0.0;
	if (VEC4) {
		uint L4 = L / 4;
		for (uint j = t; j < N * L4; j += 256) {
			uint n = j / L4;
			vec4 d = x4[(n * C + c) * L4 + (j - n * L4)] - x0;
			s += (d.x + d.y) + (d.z + d.w);
			ss += dot(d, d);
		}
	} else {
		for (uint j = t; j < N * L; j += 256) {
			uint n = j / L;
			float d = x[(n * C + c) * L + (j - n * L)] - x0;
			s += d;
			ss += d * d;
		}
	}
	sa[t] = s;
	sb[t] = ss;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) {
			sa[t] += sa[t + h];
			sb[t] += sb[t + h];
		}
		barrier();
	}
	if (t == 0) {
		uint M = N * L;
		float dm = sa[0] / float(M);
		float var = max(sb[0] / float(M) - dm * dm, 0.0);
		float mu = x0 + dm;
		mean[c] = mu;
		invstd[c] = inversesqrt(var + eps);
		float unbiased = M > 1 ? var * float(M) / float(M - 1) : var;
		runMean[c] = (1.0 - momentum) * runMean[c] + momentum * mu;
		runVar[c] = (1.0 - momentum) * runVar[c] + momentum * unbiased;
	}
}
