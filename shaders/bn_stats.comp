#version 450
// bn_stats: training-mode batch statistics of an N x C x L tensor, one
// workgroup per channel: mean, then the biased variance about it (two
// passes, for accuracy), saved as mean[c] and invstd[c] = 1/sqrt(var+eps)
// for the backward pass; the running statistics move by momentum towards
// the batch mean and the unbiased variance, as PyTorch's BatchNorm2d.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 2) writeonly buffer Invstd { float invstd[]; };
layout(std430, binding = 3) buffer RunMean { float runMean[]; };
layout(std430, binding = 4) buffer RunVar { float runVar[]; };
layout(push_constant) uniform P { uint N, C, L; float eps, momentum; };

shared float acc[256];

float total(float v) {
	uint t = gl_LocalInvocationID.x;
	acc[t] = v;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) acc[t] += acc[t + h];
		barrier();
	}
	float s = acc[0];
	barrier();
	return s;
}

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	uint M = N * L;
	float s = 0.0;
	for (uint j = t; j < M; j += 256) s += x[((j / L) * C + c) * L + j % L];
	float mu = total(s) / float(M);
	float v = 0.0;
	for (uint j = t; j < M; j += 256) {
		float d = x[((j / L) * C + c) * L + j % L] - mu;
		v += d * d;
	}
	float var = total(v) / float(M);
	if (t == 0) {
		mean[c] = mu;
		invstd[c] = inversesqrt(var + eps);
		float unbiased = M > 1 ? var * float(M) / float(M - 1) : var;
		runMean[c] = (1.0 - momentum) * runMean[c] + momentum * mu;
		runVar[c] = (1.0 - momentum) * runVar[c] + momentum * unbiased;
	}
}
