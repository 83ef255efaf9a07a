#version 450
#extension GL_EXT_control_flow_attributes : require
// conv_v2: register-tiled direct convolution, for the forward pass and the
// gradient to the input.
//
// Each invocation computes TK output channels x TP consecutive output
// columns of one output row; a workgroup shares one block of TK channels,
// whose weights it stages in shared memory CB input channels at a time.
// Per input channel and kernel row an invocation loads the input row
// segment its TP outputs need once ((TP-1)*STRIDE+RK values) and reuses it
// for all RK taps and TK channels: RK*TK*TP multiply-adds per
// (TP-1)*STRIDE+RK+RK*TK/4 loads.
//
// MODE 0: forward. x is the input (N, Ci, Hi, Wi), y the output, weights
//         stored [Co][Ci][RK][RK].
// MODE 1: gradient to the input of a stride-1 convolution: x is dy, y is
//         dx, and the weights (stored [Ci][Co][RK][RK] from the forward
//         conv's point of view) are transposed and flipped while staged;
//         the caller passes pad' = RK-1-pad.
// MODE 2: gradient to the input of a strided convolution (transposed
//         convolution), one dispatch per remainder (ROWPAR, COLPAR) of the
//         output row and column modulo STRIDE: such an output meets only
//         the taps r, s with (ROWPAR + pad - r) and (COLPAR + pad - s)
//         divisible by STRIDE, known when the pipeline is built, and an
//         invocation's TP columns COLPAR + STRIDE*j read TP consecutive dy
//         entries per tap.
//
// Loop trip counts stay small: lavapipe stops any invocation after 65,535
// loop iterations in all.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 16;
layout(constant_id = 2) const uint TP = 8;
layout(constant_id = 3) const uint RK = 3;
layout(constant_id = 4) const uint STRIDE = 1;
layout(constant_id = 5) const uint MODE = 0;
layout(constant_id = 6) const uint CB = 8;
layout(constant_id = 7) const uint ROWPAR = 0;
layout(constant_id = 8) const uint COLPAR = 0;
layout(constant_id = 9) const uint PAD2 = 0; // MODE 2's padding, as a constant

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Params {
	uint N, Ci, Hi, Wi;
	uint Co, Ho, Wo, pad;
	uint hasBias;
};

const uint WIN = (TP - 1) * STRIDE + RK; // input columns one row segment needs
shared vec4 wsh[CB * RK * RK * TK / 4];

float weight(uint o, uint i, uint r, uint s) {
	if (MODE == 1) return w[((i * Co + o) * RK + (RK - 1 - r)) * RK + (RK - 1 - s)];
	if (MODE == 2) return w[((i * Co + o) * RK + r) * RK + s];
	return w[((o * Ci + i) * RK + r) * RK + s];
}

void main() {
	const uint WG = gl_WorkGroupSize.x;
	uint lid = gl_LocalInvocationID.x;
	uint kb = gl_WorkGroupID.y * TK;
	// MODE 2: rows ROWPAR + STRIDE*i, columns COLPAR + STRIDE*j; else all.
	const uint step = MODE == 2 ? STRIDE : 1;
	const uint a = MODE == 2 ? COLPAR : 0, ra = MODE == 2 ? ROWPAR : 0;
	uint nCols = Wo > a ? (Wo - a + step - 1) / step : 0;
	uint nRows = Ho > ra ? (Ho - ra + step - 1) / step : 0;
	uint tilesPerRow = (nCols + TP - 1) / TP;
	uint tile = gl_WorkGroupID.x * WG + lid;
	bool live = tile < N * nRows * tilesPerRow;
	uint q0 = (tile % tilesPerRow) * TP; // in units of step
	uint p = ra + ((tile / tilesPerRow) % max(nRows, 1)) * step;
	uint n = tile / (tilesPerRow * max(nRows, 1));

	vec4 acc[TK / 4][TP];
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
		vec4 bias = vec4(0);
		if (hasBias != 0) {
			[[unroll]] for (uint t = 0; t < 4; t++) {
				uint k = kb + 4 * kq + t;
				bias[t] = k < Co ? b[k] : 0.0;
			}
		}
		[[unroll]] for (uint j = 0; j < TP; j++) acc[kq][j] = bias;
	}

	for (uint c0 = 0; c0 < Ci; c0 += CB) {
		barrier();
		for (uint e = lid; e < CB * RK * RK * TK; e += WG) {
			uint kk = e % TK, rest = e / TK;
			uint s = rest % RK, r = (rest / RK) % RK, cc = rest / (RK * RK);
			float v = 0.0;
			if (kb + kk < Co && c0 + cc < Ci) v = weight(kb + kk, c0 + cc, r, s);
			wsh[e / 4][e % 4] = v;
		}
		barrier();
		if (!live) continue;
		uint cEnd = min(CB, Ci - c0);
		for (uint cc = 0; cc < cEnd; cc++) {
			uint plane = (n * Ci + c0 + cc) * Hi;
			[[unroll]] for (uint r = 0; r < RK; r++) {
				if (MODE != 2) {
					int h = int(p * STRIDE + r) - int(pad);
					if (h < 0 || h >= int(Hi)) continue;
					uint row = (plane + uint(h)) * Wi;
					int col0 = int(q0 * STRIDE) - int(pad);
					float seg[WIN];
					[[unroll]] for (uint i = 0; i < WIN; i++) {
						int col = col0 + int(i);
						seg[i] = (col >= 0 && col < int(Wi)) ? x[row + uint(col)] : 0.0;
					}
					[[unroll]] for (uint s = 0; s < RK; s++) {
						uint wi = ((cc * RK + r) * RK + s) * (TK / 4);
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
							vec4 wv = wsh[wi + kq];
							[[unroll]] for (uint j = 0; j < TP; j++) acc[kq][j] += wv * seg[j * STRIDE + s];
						}
					}
				} else {
					// (ROWPAR + pad - r) mod STRIDE, non-negative: a constant.
					if ((ROWPAR + PAD2 + RK * STRIDE - r) % STRIDE != 0) continue;
					int ph = int(p + PAD2) - int(r);
					if (ph < 0 || ph / int(STRIDE) >= int(Hi)) continue;
					uint row = (plane + uint(ph) / STRIDE) * Wi;
					[[unroll]] for (uint s = 0; s < RK; s++) {
						if ((COLPAR + PAD2 + RK * STRIDE - s) % STRIDE != 0) continue;
						int num = int(COLPAR + PAD2) - int(s);
						int qs = num / int(STRIDE) + int(q0);
						float seg[TP];
						[[unroll]] for (uint j = 0; j < TP; j++) {
							int q = qs + int(j);
							seg[j] = (q >= 0 && q < int(Wi)) ? x[row + uint(q)] : 0.0;
						}
						uint wi = ((cc * RK + r) * RK + s) * (TK / 4);
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
							vec4 wv = wsh[wi + kq];
							[[unroll]] for (uint j = 0; j < TP; j++) acc[kq][j] += wv * seg[j];
						}
					}
				}
			}
		}
	}
	if (!live) return;
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
		[[unroll]] for (uint t = 0; t < 4; t++) {
			uint k = kb + 4 * kq + t;
			if (k >= Co) continue;
			uint base = ((n * Co + k) * Ho + p) * Wo;
			[[unroll]] for (uint j = 0; j < TP; j++) {
				uint col = a + (q0 + j) * step;
				if (q0 + j < nCols && col < Wo) y[base + col] = acc[kq][j][t];
			}
		}
	}
}
