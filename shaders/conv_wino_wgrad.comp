#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
// conv_wino_wgrad: the weight gradient of a 3x3 convolution with stride 1
// and padding 1 by Winograd F(3x3, 2x2): a 2x2 tile g of dy and the 4x4
// input patch d under it add Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A to dw, with
//
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
//	G  = [1 0; ½ ½; ½ -½; 0 1]
//	Aᵀ = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
//
// The products are summed in the transformed domain (16 per channel pair)
// and transformed back once: 16 multiplies per tile and pair where the
// direct kernel makes 36.
//
// As conv_v3_wgrad: a subgroup works on one block of TK output x TC input
// channels and its lanes split the pixels: a lane takes strips of TT
// tiles (2 rows x 2TT columns) of the subgroup's chunk; rows are read as
// vec4 texels with the columns beside them from the neighbouring lanes
// where VEC=1 (conv_rows.glsl). At the end of a chunk subgroupAdd adds the
// lanes' sums, and the chunk writes its partial dw (partial[chunk][k][c]
// [r][s]), which reduce_partials adds.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 8;
layout(constant_id = 2) const uint TC = 4;
layout(constant_id = 3) const uint TT = 2;
layout(constant_id = 4) const uint SG = 16;
layout(constant_id = 5) const uint VEC = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer Part { float partial[]; };
layout(binding = 3) uniform samplerBuffer xt;  // x again, as vec4 texels
layout(binding = 4) uniform samplerBuffer dyt; // dy again
layout(push_constant) uniform Params {
	uint N, C, H, W;
	uint K, stripsPerChunk; // a multiple of SG
};

const uint TP = 2 * TT;
const uint STRIDE = 1;
const uint WIN = TP + 2;
#define TEXEL_ROWS
#include "conv_rows.glsl"

void main() {
	uint nKB = (K + TK - 1) / TK, nCB = (C + TC - 1) / TC;
	uint pair = gl_WorkGroupID.x * (gl_WorkGroupSize.x / SG) + gl_SubgroupID;
	if (pair >= nKB * nCB) return; // the whole subgroup
	uint kb = (pair % nKB) * TK, cb = (pair / nKB) * TC;
	uint chunk = gl_WorkGroupID.y;
	uint stripsPerRow = (W + TP - 1) / TP, tileRows = (H + 1) / 2;
	uint strips = N * tileRows * stripsPerRow;
	uint lane = gl_SubgroupInvocationID;

	vec4 acc[TK / 4][TC][16];
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
		[[unroll]] for (uint c = 0; c < TC; c++)
			[[unroll]] for (uint e = 0; e < 16; e++) acc[kq][c][e] = vec4(0);

	for (uint s0 = chunk * stripsPerChunk; s0 < min((chunk + 1) * stripsPerChunk, strips); s0 += SG) {
		uint strip = s0 + lane;
		float live = strip < strips ? 1.0 : 0.0;
		strip = min(strip, strips - 1);
		uint q0 = (strip % stripsPerRow) * TP, rowi = strip / stripsPerRow;
		uint n = rowi / tileRows, p0 = (rowi % tileRows) * 2;
		// gu[kq][t][e]: G g Gᵀ of dy's tile t, channels kb+4kq.. (vec4).
		vec4 gu[TK / 4][TT][16];
		[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
			vec4 g[2][TP]; // dy rows p0, p0+1 from column q0, four channels
			[[unroll]] for (uint u = 0; u < 4; u++) {
				uint k = min(kb + 4 * kq + u, K - 1);
				float kz = kb + 4 * kq + u < K ? live : 0.0;
				[[unroll]] for (uint i = 0; i < 2; i++) {
					float rz = p0 + i < H ? kz : 0.0;
					uint base = ((n * K + k) * H + min(p0 + i, H - 1)) * W + q0;
					if (VEC != 0) {
						[[unroll]] for (uint v = 0; v < TP / 4; v++) {
							vec4 r = texelFetch(dyt, int(base / 4 + v)) * rz;
							[[unroll]] for (uint j = 0; j < 4; j++) g[i][4 * v + j][u] = r[j];
						}
					} else {
						[[unroll]] for (uint j = 0; j < TP; j++)
							g[i][j][u] = q0 + j < W ? dy[min(base + j, base - q0 + W - 1)] * rz : 0.0;
					}
				}
			}
			[[unroll]] for (uint t = 0; t < TT; t++) {
				vec4 a[4][2]; // G g
				[[unroll]] for (uint j = 0; j < 2; j++) {
					vec4 g0 = g[0][2 * t + j], g1 = g[1][2 * t + j];
					a[0][j] = g0;
					a[1][j] = 0.5 * (g0 + g1);
					a[2][j] = 0.5 * (g0 - g1);
					a[3][j] = g1;
				}
				[[unroll]] for (uint r = 0; r < 4; r++) {
					gu[kq][t][4 * r] = a[r][0];
					gu[kq][t][4 * r + 1] = 0.5 * (a[r][0] + a[r][1]);
					gu[kq][t][4 * r + 2] = 0.5 * (a[r][0] - a[r][1]);
					gu[kq][t][4 * r + 3] = a[r][1];
				}
			}
		}
		[[unroll]] for (uint c = 0; c < TC; c++) {
			uint plane = (n * C + min(cb + c, C - 1)) * H;
			float cz = cb + c < C ? 1.0 : 0.0;
			float d[4][WIN];
			[[unroll]] for (uint r = 0; r < 4; r++) {
				int h = int(p0 + r) - 1;
				float hz = h >= 0 && h < int(H) ? cz : 0.0;
				float seg[WIN];
				inputRow((plane + uint(clamp(h, 0, int(H) - 1))) * W, q0, hz, 1, W, W, seg);
				[[unroll]] for (uint i = 0; i < WIN; i++) d[r][i] = seg[i];
			}
			[[unroll]] for (uint t = 0; t < TT; t++) {
				float a[4][4]; // d B
				[[unroll]] for (uint r = 0; r < 4; r++) {
					float d0 = d[r][2 * t], d1 = d[r][2 * t + 1], d2 = d[r][2 * t + 2], d3 = d[r][2 * t + 3];
					a[r][0] = d0 - d2;
					a[r][1] = d1 + d2;
					a[r][2] = d2 - d1;
					a[r][3] = d3 - d1;
				}
				float v[16]; // Bᵀ d B
				[[unroll]] for (uint j = 0; j < 4; j++) {
					v[j] = a[0][j] - a[2][j];
					v[4 + j] = a[1][j] + a[2][j];
					v[8 + j] = a[2][j] - a[1][j];
					v[12 + j] = a[3][j] - a[1][j];
				}
				[[unroll]] for (uint e = 0; e < 16; e++)
					[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) acc[kq][c][e] += gu[kq][t][e] * v[e];
			}
		}
	}
	uint len = K * C * 9;
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
		[[unroll]] for (uint c = 0; c < TC; c++) {
			vec4 m[16];
			[[unroll]] for (uint e = 0; e < 16; e++) m[e] = subgroupAdd(acc[kq][c][e]);
			if (lane != 0 || cb + c >= C) continue;
			vec4 r[3][4]; // Aᵀ m
			[[unroll]] for (uint j = 0; j < 4; j++) {
				r[0][j] = m[j] + m[4 + j] + m[8 + j];
				r[1][j] = m[4 + j] - m[8 + j];
				r[2][j] = m[4 + j] + m[8 + j] + m[12 + j];
			}
			[[unroll]] for (uint i = 0; i < 3; i++) {
				vec4 o[3]; // row i of (Aᵀ m) A
				o[0] = r[i][0] + r[i][1] + r[i][2];
				o[1] = r[i][1] - r[i][2];
				o[2] = r[i][1] + r[i][2] + r[i][3];
				[[unroll]] for (uint u = 0; u < 4; u++) {
					uint k = kb + 4 * kq + u;
					if (k >= K) continue;
					[[unroll]] for (uint j = 0; j < 3; j++) partial[chunk * len + ((k * C + cb + c) * 3 + i) * 3 + j] = o[j][u];
				}
			}
		}
	}
}
