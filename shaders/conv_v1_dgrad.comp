#version 450
#extension GL_GOOGLE_include_directive : require
// conv_v1_dgrad: naive gradient to the input, one invocation per dx element:
// dx[n,c,h,w] = sum over k,r,s of w[k,c,r,s] * dy[n,k,p,q] where
// p*stride - pad + r = h and q*stride - pad + s = w.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
#include "conv_params.glsl"

void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= N * C * H * W) return;
	uint ww = i % W, h = (i / W) % H, c = (i / (H * W)) % C, n = i / (C * H * W);
	float acc = 0.0;
	for (uint k = 0; k < K; k++) {
		for (uint r = 0; r < R; r++) {
			int ph = int(h + pad) - int(r);
			if (ph < 0 || ph % int(stride) != 0 || ph / int(stride) >= int(P)) continue;
			uint p = uint(ph) / stride;
			for (uint s = 0; s < R; s++) {
				int qw = int(ww + pad) - int(s);
				if (qw < 0 || qw % int(stride) != 0 || qw / int(stride) >= int(Q)) continue;
				uint q = uint(qw) / stride;
				acc += w[((k * C + c) * R + r) * R + s] * dy[((n * K + k) * P + p) * Q + q];
			}
		}
	}
	dx[i] = acc;
}
