#version 450
// bn_bwd_apply: dx = gamma*invstd/M * (M*g - dbeta - xhat*dgamma), with g
// and xhat as in bn_bwd_stats and M = N*L (training mode). With RESIDUAL it
// also writes g to dres, the gradient of the residual input.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(constant_id = 1) const bool RESIDUAL = false;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 6) readonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 7) readonly buffer DBeta { float dbeta[]; };
layout(std430, binding = 8) writeonly buffer DX { float dx[]; };
layout(std430, binding = 9) writeonly buffer DRes { float dres[]; };
layout(push_constant) uniform P { uint N, C, L; };

void main() {
	uint total = N * C * L, stride = gl_NumWorkGroups.x * 256;
	float M = float(N * L);
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint c = (i / L) % C;
		float g = dy[i];
		if (RELU && y[i] <= 0.0) g = 0.0;
		float xhat = (x[i] - mean[c]) * invstd[c];
		dx[i] = gamma[c] * invstd[c] / M * (M * g - dbeta[c] - xhat * dgamma[c]);
		if (RESIDUAL) dres[i] = g;
	}
}
