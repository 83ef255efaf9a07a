#version 450
#extension GL_EXT_control_flow_attributes : require
// bn_apply: y = gamma*(x-mean)*invstd + beta, then (RESIDUAL) + res, then
// (RELU) max(., 0), over an N x C x L tensor. One pass; with VEC4 (L a
// multiple of 4) an invocation takes V consecutive vec4s of one plane a
// step (L a multiple of 4V), so that the channel's index and parameters
// are found once for 4V elements; grid-stride loop.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(constant_id = 1) const bool RESIDUAL = false;
layout(constant_id = 2) const bool VEC4 = true;
layout(constant_id = 3) const uint V = 1;
layout(constant_id = 4) const bool TEXEL = true; // VEC4 reads through xt, rest (CPU devices)
layout(std430, binding = 1) readonly buffer Mean { float mean[]; };
layout(std430, binding = 2) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 3) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 4) readonly buffer Beta { float beta[]; };
layout(std430, binding = 6) writeonly buffer Y { vec4 y[]; };
// The VEC4 paths read the large tensors again through texel bindings:
// lavapipe fetches texels with vector gathers where it loads a storage
// buffer lane by lane (docs/perf.md).
layout(binding = 7) uniform samplerBuffer xt;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 5) readonly buffer Res { vec4 res[]; };
layout(binding = 8) uniform samplerBuffer rest;
layout(std430, binding = 0) readonly buffer X1 { float x1[]; };
layout(std430, binding = 5) readonly buffer Res1 { float res1[]; };
layout(std430, binding = 6) writeonly buffer Y1 { float y1[]; };
layout(push_constant) uniform P { uint N, C, L; };

void main() {
	uint stride = gl_NumWorkGroups.x * 256;
	if (VEC4) {
		uint L4 = L / 4, blocks = N * C * L4 / V;
		for (uint blk = gl_GlobalInvocationID.x; blk < blocks; blk += stride) {
			uint i0 = blk * V, c = (i0 / L4) % C;
			float a = gamma[c] * invstd[c], m = mean[c], b = beta[c];
			[[unroll]] for (uint u = 0; u < V; u++) {
				uint i = i0 + u;
				vec4 xv, rv = vec4(0);
				if (TEXEL) {
					xv = texelFetch(xt, int(i));
					if (RESIDUAL) rv = texelFetch(rest, int(i));
				} else {
					xv = x[i];
					if (RESIDUAL) rv = res[i];
				}
				vec4 v = (xv - m) * a + b;
				if (RESIDUAL) v += rv;
				if (RELU) v = max(v, vec4(0.0));
				y[i] = v;
			}
		}
	} else {
		uint total = N * C * L;
		for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
			uint c = (i / L) % C;
			float v = gamma[c] * (x1[i] - mean[c]) * invstd[c] + beta[c];
			if (RESIDUAL) v += res1[i];
			if (RELU) v = max(v, 0.0);
			y1[i] = v;
		}
	}
}
