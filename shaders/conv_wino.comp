#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
// conv_wino: a 3x3 convolution with stride 1 and padding 1 by Winograd's
// F(2x2, 3x3) (Lavin and Gray 2015), fused: each output 2x2 tile is
// Aᵀ [Σ_c U(k,c) ⊙ V(c)] A with V = Bᵀ d B the 4x4 input patch
// transformed, and U = G g Gᵀ the weights transformed beforehand
// (conv_wino_weights). 16 multiplies per tile and channel pair where the
// direct convolution makes 36 (2.25x fewer); the transforms are additions.
// The data gradient is the same kernel on dy with U from the flipped,
// transposed weights.
//
// An invocation computes TK output channels x TT tiles along a row pair
// (2 rows x 2TT columns). Per input channel it reads four input rows of
// 2TT+2 columns (conv_rows.glsl: vec4s and neighbours' columns by
// shuffles where VEC=1), transforms TT patches, and makes 16*TK*TT FMAs.
// U is the same for every invocation of a workgroup: as in conv_v3, each
// lane loads a share of the channel's 16*TK/4 vec4s and passes them by
// subgroupShuffle from lanes known when the loops are unrolled.
//
// Napkin (TK=16, TT=2, subgroup 16, per input channel): 4 vec4 input
// loads + 8 shuffles, 4 vec4 weight loads + 64 vec4 shuffles, 64
// additions for the transforms and 512 FMAs for 64 outputs (the direct
// kernel: 1,152).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 16; // output channels per invocation, a multiple of 4
layout(constant_id = 2) const uint TT = 2;  // tiles per invocation
layout(constant_id = 3) const uint SG = 16; // the subgroup size (tiles are numbered by subgroup and lane)
layout(constant_id = 4) const uint VEC = 0; // rows as vec4s (conv_rows.glsl)

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(binding = 4) uniform samplerBuffer xt; // x again, as vec4 texels
layout(binding = 1) uniform samplerBuffer u; // [k block][c][16][TK/4] vec4s
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Params {
	uint N, Ci, H, W;
	uint Co, hasBias;
};

const uint TP = 2 * TT; // output columns per invocation
const uint STRIDE = 1;
const uint WIN = TP + 2;
#define TEXEL_ROWS
#include "conv_rows.glsl"

void main() {
	const uint WG = gl_WorkGroupSize.x;
	uint kb = gl_WorkGroupID.y * TK; // first output channel
	uint groupsPerRow = (W + TP - 1) / TP, tileRows = (H + 1) / 2;
	uint tile = gl_WorkGroupID.x * WG + gl_SubgroupID * SG + gl_SubgroupInvocationID;
	bool live = tile < N * tileRows * groupsPerRow;
	uint q0 = (tile % groupsPerRow) * TP;
	uint p0 = ((tile / groupsPerRow) % tileRows) * 2;
	uint n = min(tile / (groupsPerRow * tileRows), N - 1);

	vec4 m[16][TK / 4][TT];
	[[unroll]] for (uint e = 0; e < 16; e++)
		[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
			[[unroll]] for (uint t = 0; t < TT; t++) m[e][kq][t] = vec4(0);

	for (uint c = 0; c < Ci; c++) {
		uint plane = (n * Ci + c) * H;
		float d[4][WIN];
		[[unroll]] for (uint r = 0; r < 4; r++) {
			int h = int(p0 + r) - 1;
			float hz = h >= 0 && h < int(H) ? 1.0 : 0.0;
			uint row = (plane + uint(clamp(h, 0, int(H) - 1))) * W;
			float seg[WIN];
			inputRow(row, q0, hz, 1, W, W, seg);
			[[unroll]] for (uint i = 0; i < WIN; i++) d[r][i] = seg[i];
		}
		// V = Bᵀ d B for each tile, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
		float v[TT][16];
		[[unroll]] for (uint t = 0; t < TT; t++) {
			float a[4][4];
			[[unroll]] for (uint r = 0; r < 4; r++) {
				float d0 = d[r][2 * t], d1 = d[r][2 * t + 1], d2 = d[r][2 * t + 2], d3 = d[r][2 * t + 3];
				a[r][0] = d0 - d2;
				a[r][1] = d1 + d2;
				a[r][2] = d2 - d1;
				a[r][3] = d1 - d3;
			}
			[[unroll]] for (uint j = 0; j < 4; j++) {
				v[t][j] = a[0][j] - a[2][j];
				v[t][4 + j] = a[1][j] + a[2][j];
				v[t][8 + j] = a[2][j] - a[1][j];
				v[t][12 + j] = a[1][j] - a[3][j];
			}
		}
		// This lane's share of the channel's weights.
		const uint NV = 4 * TK, NL = (NV + SG - 1) / SG;
		uint ub = (gl_WorkGroupID.y * Ci + c) * NV;
		vec4 wl[NL];
		[[unroll]] for (uint j = 0; j < NL; j++) wl[j] = texelFetch(u, int(ub + min(j * SG + gl_SubgroupInvocationID, NV - 1)));
		[[unroll]] for (uint e = 0; e < 16; e++) {
			[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
				uint i = e * (TK / 4) + kq;
				vec4 wv = subgroupShuffle(wl[i / SG], i % SG);
				[[unroll]] for (uint t = 0; t < TT; t++) m[e][kq][t] += wv * v[t][e];
			}
		}
	}
	if (!live) return;
	// Y = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 -1 -1].
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
		vec4 bias = vec4(0);
		[[unroll]] for (uint i = 0; i < 4; i++) {
			uint k = kb + 4 * kq + i;
			if (hasBias != 0 && k < Co) bias[i] = b[k];
		}
		[[unroll]] for (uint t = 0; t < TT; t++) {
			vec4 s[2][4];
			[[unroll]] for (uint j = 0; j < 4; j++) {
				s[0][j] = m[j][kq][t] + m[4 + j][kq][t] + m[8 + j][kq][t];
				s[1][j] = m[4 + j][kq][t] - m[8 + j][kq][t] - m[12 + j][kq][t];
			}
			[[unroll]] for (uint i = 0; i < 2; i++) {
				vec4 o[2];
				o[0] = s[i][0] + s[i][1] + s[i][2] + bias;
				o[1] = s[i][1] - s[i][2] - s[i][3] + bias;
				uint p = p0 + i;
				[[unroll]] for (uint j = 0; j < 2; j++) {
					uint q = q0 + 2 * t + j;
					if (p >= H || q >= W) continue;
					[[unroll]] for (uint l = 0; l < 4; l++) {
						uint k = kb + 4 * kq + l;
						if (k < Co) y[((n * Co + k) * H + p) * W + q] = o[j][l];
					}
				}
			}
		}
	}
}
