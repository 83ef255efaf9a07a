#version 450
// bn_stats: training-mode batch statistics of an N x C x L tensor, one
// workgroup per channel, in one pass over the data with vec4 loads (L is a
// multiple of 4, or VEC4 is off). Each invocation keeps a running mean and
// sum of squared deviations (Welford), and the workgroup merges them
// pairwise (Chan et al.), as accurate as two passes. Saves mean[c] and
// invstd[c] = 1/sqrt(var+eps) (biased variance) for the backward pass; the
// running statistics move by momentum towards the batch mean and the
// unbiased variance, as PyTorch's BatchNorm2d.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool VEC4 = true;
layout(constant_id = 1) const bool TEXEL = true; // VEC4 reads through xt (CPU devices)
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 2) writeonly buffer Invstd { float invstd[]; };
layout(std430, binding = 3) buffer RunMean { float runMean[]; };
layout(std430, binding = 4) buffer RunVar { float runVar[]; };
// The VEC4 paths read the large tensors again through texel bindings:
// lavapipe fetches texels with vector gathers where it loads a storage
// buffer lane by lane (docs/perf.md).
layout(binding = 5) uniform samplerBuffer xt;
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(push_constant) uniform P { uint N, C, L; float eps, momentum; };

shared float sn[256];
shared float sm[256];
shared float sq[256];

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float cnt = 0.0, mu = 0.0, m2 = 0.0;
	if (VEC4) {
		uint L4 = L / 4;
		// (n, r): image and offset in the plane of element j, stepped
		// without a division per element.
		uint dn = 256 / L4, dr = 256 % L4, n = t / L4, r = t % L4;
		for (uint j = t; j < N * L4; j += 256) {
			uint i = (n * C + c) * L4 + r;
			vec4 v;
			if (TEXEL) v = texelFetch(xt, int(i));
			else v = x4[i];
			r += dr;
			n += dn;
			if (r >= L4) {
				r -= L4;
				n++;
			}
			for (uint k = 0; k < 4; k++) {
				cnt += 1.0;
				float d = v[k] - mu;
				mu += d / cnt;
				m2 += d * (v[k] - mu);
			}
		}
	} else {
		uint dn = 256 / L, dr = 256 % L, n = t / L, r = t % L;
		for (uint j = t; j < N * L; j += 256) {
			float v = x[(n * C + c) * L + r];
			r += dr;
			n += dn;
			if (r >= L) {
				r -= L;
				n++;
			}
			cnt += 1.0;
			float d = v - mu;
			mu += d / cnt;
			m2 += d * (v - mu);
		}
	}
	sn[t] = cnt;
	sm[t] = mu;
	sq[t] = m2;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) {
			float na = sn[t], nb = sn[t + h], n = na + nb;
			if (nb > 0.0) {
				float delta = sm[t + h] - sm[t];
				sm[t] += delta * nb / n;
				sq[t] += sq[t + h] + delta * delta * na * nb / n;
				sn[t] = n;
			}
		}
		barrier();
	}
	if (t == 0) {
		uint M = N * L;
		float mean0 = sm[0];
		float var = sq[0] / float(M);
		mean[c] = mean0;
		invstd[c] = inversesqrt(var + eps);
		float unbiased = M > 1 ? var * float(M) / float(M - 1) : var;
		runMean[c] = (1.0 - momentum) * runMean[c] + momentum * mean0;
		runVar[c] = (1.0 - momentum) * runVar[c] + momentum * unbiased;
	}
}
