#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
// conv_v3_wgrad: gradient to the weights for devices that load lane by
// lane (see conv_v3.comp).
//
// dw[k,c,r,s] = sum over n,p,q of dy[n,k,p,q] * x[n,c,p*S-pad+r,q*S-pad+s].
// v2 gives each lane its own block of weights, so the lanes of a subgroup
// read different dy and x values at the same pixels. Here a whole subgroup
// works on one block of TK output x TC input channels and its lanes split
// the pixels: lane l takes the tiles (output row, TP columns) l, l+SG, ...
// of the subgroup's chunk, so that with VEC=1 its rows are vec4 loads and
// the columns beside them come from the neighbouring lanes
// (conv_rows.glsl). Each lane keeps TK*TC*RK*RK sums; at the end
// subgroupAdd adds the lanes' and the chunk writes its partial sums,
// partial[chunk][k][c][r][s], which reduce_partials adds.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 8;
layout(constant_id = 2) const uint TC = 4;
layout(constant_id = 3) const uint TP = 8;
layout(constant_id = 4) const uint RK = 3;
layout(constant_id = 5) const uint STRIDE = 1;
layout(constant_id = 6) const uint SG = 8;
layout(constant_id = 7) const uint VEC = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer Part { float partial[]; };
// x and dy again, as vec4 texels: lavapipe fetches texels with vector
// gathers where it loads a storage buffer lane by lane (docs/perf.md).
layout(binding = 3) uniform samplerBuffer xt;
layout(binding = 4) uniform samplerBuffer dyt;
layout(push_constant) uniform Params {
	uint N, C, H, W;
	uint K, P, Q, pad;
	uint tilesPerChunk; // a multiple of SG
};

const uint WIN = (TP - 1) * STRIDE + RK;

#define TEXEL_ROWS
#include "conv_rows.glsl"

void main() {
	uint nKB = (K + TK - 1) / TK, nCB = (C + TC - 1) / TC;
	uint pair = gl_WorkGroupID.x * (gl_WorkGroupSize.x / SG) + gl_SubgroupID;
	if (pair >= nKB * nCB) return; // the whole subgroup
	uint kb = (pair % nKB) * TK, cb = (pair / nKB) * TC;
	uint chunk = gl_WorkGroupID.y;
	uint tilesPerRow = (Q + TP - 1) / TP;
	uint tiles = N * P * tilesPerRow;
	uint lane = gl_SubgroupInvocationID;

	vec4 acc[TK / 4][TC][RK][RK];
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
		[[unroll]] for (uint c = 0; c < TC; c++)
			[[unroll]] for (uint r = 0; r < RK; r++)
				[[unroll]] for (uint s = 0; s < RK; s++) acc[kq][c][r][s] = vec4(0);

	for (uint t0 = chunk * tilesPerChunk; t0 < min((chunk + 1) * tilesPerChunk, tiles); t0 += SG) {
		uint tile = t0 + lane;
		float live = tile < tiles ? 1.0 : 0.0;
		tile = min(tile, tiles - 1);
		uint q0 = (tile % tilesPerRow) * TP, rowi = tile / tilesPerRow;
		uint n = rowi / P, p = rowi % P;
		// g[kq][j]: dy of channels kb+4kq.. at column q0+j, 0 past the row.
		vec4 g[TK / 4][TP];
		[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
			[[unroll]] for (uint u = 0; u < 4; u++) {
				uint k = min(kb + 4 * kq + u, K - 1);
				float kz = kb + 4 * kq + u < K ? live : 0.0;
				uint base = ((n * K + k) * P + p) * Q + q0;
				if (VEC != 0) {
					[[unroll]] for (uint i = 0; i < TP / 4; i++) {
						vec4 v = texelFetch(dyt, int(base / 4 + i)) * kz;
						[[unroll]] for (uint j = 0; j < 4; j++) g[kq][4 * i + j][u] = v[j];
					}
				} else {
					[[unroll]] for (uint j = 0; j < TP; j++)
						g[kq][j][u] = q0 + j < Q ? dy[min(base + j, base - q0 + Q - 1)] * kz : 0.0;
				}
			}
		}
		[[unroll]] for (uint c = 0; c < TC; c++) {
			uint plane = (n * C + min(cb + c, C - 1)) * H;
			[[unroll]] for (uint r = 0; r < RK; r++) {
				int h = int(p * STRIDE + r) - int(pad);
				float hz = h >= 0 && h < int(H) && cb + c < C ? 1.0 : 0.0;
				float seg[WIN];
				inputRow((plane + uint(clamp(h, 0, int(H) - 1))) * W, q0, hz, pad, W, Q, seg);
				[[unroll]] for (uint s = 0; s < RK; s++)
					[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
						[[unroll]] for (uint j = 0; j < TP; j++) acc[kq][c][r][s] += g[kq][j] * seg[j * STRIDE + s];
			}
		}
	}
	uint len = K * C * RK * RK;
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
		[[unroll]] for (uint c = 0; c < TC; c++)
			[[unroll]] for (uint r = 0; r < RK; r++)
				[[unroll]] for (uint s = 0; s < RK; s++) {
					vec4 sum = subgroupAdd(acc[kq][c][r][s]);
					if (lane != 0 || cb + c >= C) continue;
					[[unroll]] for (uint u = 0; u < 4; u++) {
						uint k = kb + 4 * kq + u;
						if (k < K) partial[chunk * len + ((k * C + cb + c) * RK + r) * RK + s] = sum[u];
					}
				}
}
