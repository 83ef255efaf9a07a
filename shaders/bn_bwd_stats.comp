#version 450
// bn_bwd_stats: per channel, with g = dy masked by y > 0 when RELU (the
// gradient reaching the batch norm's output), dgamma = sum(g * xhat) and
// dbeta = sum(g), xhat = (x-mean)*invstd. One workgroup per channel.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) writeonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 6) writeonly buffer DBeta { float dbeta[]; };
layout(push_constant) uniform P { uint N, C, L; };

shared float a[256];
shared float b[256];

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float mu = mean[c], is = invstd[c];
	float sg = 0.0, sgx = 0.0;
	for (uint j = t; j < N * L; j += 256) {
		uint i = ((j / L) * C + c) * L + j % L;
		float g = dy[i];
		if (RELU && y[i] <= 0.0) g = 0.0;
		sg += g;
		sgx += g * (x[i] - mu) * is;
	}
	a[t] = sg;
	b[t] = sgx;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) {
			a[t] += a[t + h];
			b[t] += b[t + h];
		}
		barrier();
	}
	if (t == 0) {
		dbeta[c] = a[0];
		dgamma[c] = b[0];
	}
}
