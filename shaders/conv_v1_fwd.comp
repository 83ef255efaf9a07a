#version 450
#extension GL_GOOGLE_include_directive : require
// conv_v1_fwd: naive direct convolution, one invocation per output element.
// Kept as the reference point for the tiled kernels.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
#include "conv_params.glsl"

void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= N * K * P * Q) return;
	uint q = i % Q, p = (i / Q) % P, k = (i / (P * Q)) % K, n = i / (K * P * Q);
	float acc = hasBias != 0 ? b[k] : 0.0;
	for (uint c = 0; c < C; c++) {
		for (uint r = 0; r < R; r++) {
			int h = int(p * stride + r) - int(pad);
			if (h < 0 || h >= int(H)) continue;
			for (uint s = 0; s < R; s++) {
				int ww = int(q * stride + s) - int(pad);
				if (ww < 0 || ww >= int(W)) continue;
				acc += w[((k * C + c) * R + r) * R + s] * x[((n * C + c) * H + h) * W + ww];
			}
		}
	}
	y[i] = acc;
}
