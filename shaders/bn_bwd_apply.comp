#version 450
#extension GL_EXT_control_flow_attributes : require
// bn_bwd_apply: dx = gamma*invstd/M * (M*g - dbeta - xhat*dgamma), with g
// and xhat as in bn_bwd_stats and M = N*L (training mode). With RESIDUAL it
// also writes g to dres, the gradient of the residual input. With VEC4 (L
// a multiple of 4) an invocation takes V consecutive vec4s of one plane a
// step (L a multiple of 4V): the channel's parameters once per 4V
// elements.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(constant_id = 1) const bool RESIDUAL = false;
layout(constant_id = 2) const bool VEC4 = true;
layout(constant_id = 3) const uint V = 1;
layout(constant_id = 4) const bool TEXEL = true; // VEC4 reads through the texel bindings (CPU devices)
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 6) readonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 7) readonly buffer DBeta { float dbeta[]; };
layout(std430, binding = 8) writeonly buffer DX { vec4 dx[]; };
layout(std430, binding = 9) writeonly buffer DRes { vec4 dres[]; };
// The VEC4 paths read the large tensors again through texel bindings:
// lavapipe fetches texels with vector gathers where it loads a storage
// buffer lane by lane (docs/perf.md).
layout(binding = 10) uniform samplerBuffer xt;
layout(binding = 11) uniform samplerBuffer yt;
layout(binding = 12) uniform samplerBuffer dyt;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) readonly buffer Y { vec4 y[]; };
layout(std430, binding = 2) readonly buffer DY { vec4 dy[]; };
layout(std430, binding = 0) readonly buffer X1 { float x1[]; };
layout(std430, binding = 1) readonly buffer Y1 { float y1[]; };
layout(std430, binding = 2) readonly buffer DY1 { float dy1[]; };
layout(std430, binding = 8) writeonly buffer DX1 { float dx1[]; };
layout(std430, binding = 9) writeonly buffer DRes1 { float dres1[]; };
layout(push_constant) uniform P { uint N, C, L; };

void main() {
	uint stride = gl_NumWorkGroups.x * 256;
	float M = float(N * L);
	if (VEC4) {
		uint L4 = L / 4, blocks = N * C * L4 / V;
		for (uint blk = gl_GlobalInvocationID.x; blk < blocks; blk += stride) {
			uint i0 = blk * V, c = (i0 / L4) % C;
			float m = mean[c], is = invstd[c], k = gamma[c] * is / M, db = dbeta[c], dg = dgamma[c];
			[[unroll]] for (uint u = 0; u < V; u++) {
				uint i = i0 + u;
				vec4 g, yv, xv;
				if (TEXEL) {
					g = texelFetch(dyt, int(i));
					if (RELU) yv = texelFetch(yt, int(i));
					xv = texelFetch(xt, int(i));
				} else {
					g = dy[i];
					if (RELU) yv = y[i];
					xv = x[i];
				}
				if (RELU) g = mix(vec4(0.0), g, greaterThan(yv, vec4(0.0)));
				vec4 xhat = (xv - m) * is;
				dx[i] = k * (M * g - db - xhat * dg);
				if (RESIDUAL) dres[i] = g;
			}
		}
	} else {
		uint total = N * C * L;
		for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
			uint c = (i / L) % C;
			float g = dy1[i];
			if (RELU && y1[i] <= 0.0) g = 0.0;
			float xhat = (x1[i] - mean[c]) * invstd[c];
			dx1[i] = gamma[c] * invstd[c] / M * (M * g - dbeta[c] - xhat * dgamma[c]);
			if (RESIDUAL) dres1[i] = g;
		}
	}
}
