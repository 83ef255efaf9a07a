#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_shuffle_relative : require
// conv_v3: conv_v2 (forward and gradient to the input, same modes, tiles
// and weight staging) for devices where every invocation's load is a
// gather of its own, such as lavapipe, which runs a subgroup as the lanes
// of one SIMD register and loads lane by lane. v3 loads each value a
// subgroup needs once and passes it between lanes with subgroup shuffles.
//
// - Weights: all invocations of a workgroup use the same ones. Per input
//   channel and kernel row the RK*TK/4 weight vec4s are spread over the SG
//   lanes, each lane reading one or two; a tap's vec4 then reaches every
//   lane by subgroupShuffle from a lane known when the loop is unrolled.
//   (TK=16, SG=8: 2 shared-memory loads where v2 makes 12.)
// - Inputs (MODE 0 and 1): see conv_rows.glsl; with VEC=1 a lane reads
//   its own columns as vec4s and the one either side from its neighbours.
//   MODE 2 reads dy lane by lane, as v2: the strided shapes that allow
//   vec4 rows take MODE 3.
// - MODE 3 (v3 only): the gradient to the input of a 3x3 convolution with
//   stride 2 and padding 1, all four remainders at once: an invocation
//   computes dx rows 2i, 2i+1 x columns 2(q0+j), 2(q0+j)+1, which read dy
//   rows i, i+1 and columns q0+j, q0+j+1 only; each of the nine taps feeds
//   one remainder. One pass, every staged weight used (MODE 2 stages all
//   nine taps for one remainder's 1, 2 or 4). Always reads vec4 rows: the
//   host picks it only where they are valid and dx is of even size
//   (ConvTiles.vecRowsStrided).
//
// Tiles are numbered by subgroup and lane, so SG must be the subgroup size
// the device runs the shader with (the host passes the one it reports and
// uses v3 on CPU devices, whose subgroups are their SIMD width).
// - No divergent control flow around a shuffle: rows and columns outside
//   the input read a clamped address and are multiplied by 0.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 16;
layout(constant_id = 2) const uint TP = 8;
layout(constant_id = 3) const uint RK = 3;
layout(constant_id = 4) const uint STRIDE = 1;
layout(constant_id = 5) const uint MODE = 0;
layout(constant_id = 6) const uint CB = 8;
layout(constant_id = 7) const uint ROWPAR = 0;
layout(constant_id = 8) const uint COLPAR = 0;
layout(constant_id = 9) const uint PAD2 = 0;
layout(constant_id = 10) const uint SG = 8; // the subgroup size
layout(constant_id = 11) const uint VEC = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
// x again, as vec4 texels for the vec4 row reads: lavapipe fetches texels
// with vector gathers where it loads a storage buffer lane by lane.
layout(binding = 4) uniform samplerBuffer xt;
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Params {
	uint N, Ci, Hi, Wi;
	uint Co, Ho, Wo, pad;
	uint hasBias;
};

const uint WIN = (TP - 1) * STRIDE + RK;
const uint WSH = CB * RK * RK * TK / 4;
const uint WV = RK * TK / 4; // weight vec4s per input channel and kernel row
const uint NL = (WV + SG - 1) / SG;
const uint TP1 = TP + 1; // MODE 3: a dy row segment and the next column
const uint PAR = MODE == 3 ? 4 : 1; // accumulator sets: MODE 3's (row, column) remainders
shared vec4 wsh[WSH];

#define TEXEL_ROWS
#include "conv_rows.glsl"

float weight(uint o, uint i, uint r, uint s) {
	if (MODE == 1) return w[((i * Co + o) * RK + (RK - 1 - r)) * RK + (RK - 1 - s)];
	if (MODE >= 2) return w[((i * Co + o) * RK + r) * RK + s];
	return w[((o * Ci + i) * RK + r) * RK + s];
}

// rowWeights reads this lane's share of the weights of staged channel cc,
// kernel row r.
void rowWeights(uint cc, uint r, out vec4 wl[NL]) {
	[[unroll]] for (uint j = 0; j < NL; j++)
		wl[j] = wsh[min((cc * RK + r) * WV + j * SG + gl_SubgroupInvocationID, WSH - 1)];
}

// tapWeights is the vec4 i of a row's weights (tap s, channels 4kq..4kq+3
// for i = s*TK/4 + kq), in every lane.
vec4 tapWeights(vec4 wl[NL], uint i) { return subgroupShuffle(wl[i / SG], i % SG); }

// dyRow reads dy row i of a plane from column q0: TP columns as vec4s and
// column q0+TP from the next lane, 0 outside dy.
void dyRow(uint plane, uint i, uint q0, out float seg[TP1]) {
	float hz = i < Hi ? 1.0 : 0.0;
	uint row = (plane + min(i, Hi - 1)) * Wi;
	[[unroll]] for (uint k = 0; k < TP / 4; k++) {
		vec4 v = texelFetch(xt, int((row + q0) / 4 + k)) * hz;
		[[unroll]] for (uint t = 0; t < 4; t++) seg[4 * k + t] = v[t];
	}
	float next = subgroupShuffleDown(seg[0], 1);
	[[unroll]] for (uint j = TP; j <= TP; j++) seg[j] = q0 + TP < Wi ? next : 0.0;
}

void main() {
	const uint WG = gl_WorkGroupSize.x;
	uint kb = gl_WorkGroupID.y * TK;
	const uint step = MODE >= 2 ? STRIDE : 1;
	const uint a = MODE == 2 ? COLPAR : 0, ra = MODE == 2 ? ROWPAR : 0;
	uint nCols = Wo > a ? (Wo - a + step - 1) / step : 0;
	uint nRows = Ho > ra ? (Ho - ra + step - 1) / step : 0;
	uint tilesPerRow = (nCols + TP - 1) / TP;
	uint tile = gl_WorkGroupID.x * WG + gl_SubgroupID * SG + gl_SubgroupInvocationID;
	bool live = tile < N * nRows * tilesPerRow;
	uint q0 = (tile % tilesPerRow) * TP;
	uint p = ra + ((tile / tilesPerRow) % max(nRows, 1)) * step;
	uint n = min(tile / (tilesPerRow * max(nRows, 1)), N - 1);

	vec4 acc[PAR][TK / 4][TP];
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
		vec4 bias = vec4(0);
		if (hasBias != 0) {
			[[unroll]] for (uint t = 0; t < 4; t++) {
				uint k = kb + 4 * kq + t;
				bias[t] = k < Co ? b[k] : 0.0;
			}
		}
		[[unroll]] for (uint e = 0; e < PAR; e++)
			[[unroll]] for (uint j = 0; j < TP; j++) acc[e][kq][j] = bias;
	}

	for (uint c0 = 0; c0 < Ci; c0 += CB) {
		barrier();
		for (uint e = gl_LocalInvocationID.x; e < CB * RK * RK * TK; e += WG) {
			uint kk = e % TK, rest = e / TK;
			uint s = rest % RK, r = (rest / RK) % RK, cc = rest / (RK * RK);
			float v = 0.0;
			if (kb + kk < Co && c0 + cc < Ci) v = weight(kb + kk, c0 + cc, r, s);
			wsh[e / 4][e % 4] = v;
		}
		barrier();
		uint cEnd = min(CB, Ci - c0);
		for (uint cc = 0; cc < cEnd; cc++) {
			uint plane = (n * Ci + c0 + cc) * Hi;
			if (MODE == 3) {
				// Tap (r, s) feeds remainder ((r+1)%2, (s+1)%2) from dy
				// row i+(r==0) and column q0+j+(s==0).
				float row0[TP1], row1[TP1];
				dyRow(plane, p / 2, q0, row0);
				dyRow(plane, p / 2 + 1, q0, row1);
				[[unroll]] for (uint r = 0; r < RK; r++) {
					vec4 wl[NL];
					rowWeights(cc, r, wl);
					[[unroll]] for (uint s = 0; s < RK; s++) {
						uint e = ((r + 1) % 2) * 2 + (s + 1) % 2;
						uint dr = r == 0 ? 1 : 0, dc = s == 0 ? 1 : 0;
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
							vec4 wv = tapWeights(wl, s * (TK / 4) + kq);
							[[unroll]] for (uint j = 0; j < TP; j++) acc[e][kq][j] += wv * (dr == 0 ? row0[j + dc] : row1[j + dc]);
						}
					}
				}
				continue;
			}
			[[unroll]] for (uint r = 0; r < RK; r++) {
				if (MODE < 2) {
					vec4 wl[NL];
					rowWeights(cc, r, wl);
					int h = int(p * STRIDE + r) - int(pad);
					float hz = h >= 0 && h < int(Hi) ? 1.0 : 0.0;
					uint row = (plane + uint(clamp(h, 0, int(Hi) - 1))) * Wi;
					float seg[WIN];
					inputRow(row, q0, hz, pad, Wi, Wo, seg);
					[[unroll]] for (uint s = 0; s < RK; s++) {
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
							vec4 wv = tapWeights(wl, s * (TK / 4) + kq);
							[[unroll]] for (uint j = 0; j < TP; j++) acc[0][kq][j] += wv * seg[j * STRIDE + s];
						}
					}
				} else {
					// As in v2: only the taps with (ROWPAR + pad - r) and
					// (COLPAR + pad - s) divisible by STRIDE.
					if ((ROWPAR + PAD2 + RK * STRIDE - r) % STRIDE != 0) continue;
					vec4 wl[NL];
					rowWeights(cc, r, wl);
					int ph = int(p + PAD2) - int(r);
					float hz = ph >= 0 && ph / int(STRIDE) < int(Hi) ? 1.0 : 0.0;
					uint row = (plane + uint(clamp(ph / int(STRIDE), 0, int(Hi) - 1))) * Wi;
					[[unroll]] for (uint s = 0; s < RK; s++) {
						if ((COLPAR + PAD2 + RK * STRIDE - s) % STRIDE != 0) continue;
						int qs = (int(COLPAR + PAD2) - int(s)) / int(STRIDE) + int(q0);
						float seg[TP];
						[[unroll]] for (uint j = 0; j < TP; j++) {
							int q = qs + int(j);
							float v = x[row + uint(clamp(q, 0, int(Wi) - 1))];
							seg[j] = q >= 0 && q < int(Wi) ? v * hz : 0.0;
						}
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
							vec4 wv = tapWeights(wl, s * (TK / 4) + kq);
							[[unroll]] for (uint j = 0; j < TP; j++) acc[0][kq][j] += wv * seg[j];
						}
					}
				}
			}
		}
	}
	if (!live) return;
	[[unroll]] for (uint e = 0; e < PAR; e++) {
		uint rp = e / 2, cp = e % 2; // MODE 3's remainders
		[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
			[[unroll]] for (uint t = 0; t < 4; t++) {
				uint k = kb + 4 * kq + t;
				if (k >= Co) continue;
				uint base = ((n * Co + k) * Ho + p + rp) * Wo;
				[[unroll]] for (uint j = 0; j < TP; j++) {
					uint col = a + (q0 + j) * step + cp;
					if (q0 + j < nCols && col < Wo) y[base + col] = acc[e][kq][j][t];
				}
			}
		}
	}
}
