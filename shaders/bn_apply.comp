#version 450
// bn_apply: y = gamma*(x-mean)*invstd + beta, then (RESIDUAL) + res, then
// (RELU) max(., 0), over an N x C x L tensor. One pass; grid-stride loop.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(constant_id = 1) const bool RESIDUAL = false;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Mean { float mean[]; };
layout(std430, binding = 2) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 3) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 4) readonly buffer Beta { float beta[]; };
layout(std430, binding = 5) readonly buffer Res { float res[]; };
layout(std430, binding = 6) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint N, C, L; };

void main() {
	uint total = N * C * L, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint c = (i / L) % C;
		float v = gamma[c] * (x[i] - mean[c]) * invstd[c] + beta[c];
		if (RESIDUAL) v += res[i];
		if (RELU) v = max(v, 0.0);
		y[i] = v;
	}
}
