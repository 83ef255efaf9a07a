#version 450
#extension GL_GOOGLE_include_directive : require
// conv_v1_wgrad: naive gradient to the weights, one invocation per dw
// element and image: partial[n][k,c,r,s], summed by reduce_partials. (One
// invocation per element over the whole batch would be simpler, but
// lavapipe stops an invocation after 65,535 loop iterations.)
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer Part { float partial[]; };
#include "conv_params.glsl"

void main() {
	uint i = gl_GlobalInvocationID.x;
	uint n = gl_WorkGroupID.y;
	if (i >= K * C * R * R) return;
	uint s = i % R, r = (i / R) % R, c = (i / (R * R)) % C, k = i / (C * R * R);
	float acc = 0.0;
	for (uint p = 0; p < P; p++) {
		int h = int(p * stride + r) - int(pad);
		if (h < 0 || h >= int(H)) continue;
		for (uint q = 0; q < Q; q++) {
			int ww = int(q * stride + s) - int(pad);
			if (ww < 0 || ww >= int(W)) continue;
			acc += dy[((n * K + k) * P + p) * Q + q] * x[((n * C + c) * H + h) * W + ww];
		}
	}
	partial[n * K * C * R * R + i] = acc;
}
