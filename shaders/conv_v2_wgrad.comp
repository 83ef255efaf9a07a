#version 450
#extension GL_EXT_control_flow_attributes : require
// conv_v2_wgrad: register-tiled gradient to the weights, split over the
// batch without atomics.
//
// dw[k,c,r,s] = sum over n,p,q of dy[n,k,p,q] * x[n,c,p*S-pad+r,q*S-pad+s].
// Invocation (k-block of TK, c-block of TC, chunk of output rows) keeps
// TK*TC*RK*RK sums in registers. Per output row segment of TP columns it
// loads TK*TP dy values and TC*RK row segments of x ((TP-1)*S+RK values
// each), for TK*TC*RK*RK*TP multiply-adds. Each chunk writes its own
// partial sums, partial[chunk][k][c][r][s]; reduce_partials adds them.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 8;
layout(constant_id = 2) const uint TC = 4;
layout(constant_id = 3) const uint TP = 8;
layout(constant_id = 4) const uint RK = 3;
layout(constant_id = 5) const uint STRIDE = 1;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer Part { float partial[]; };
layout(push_constant) uniform Params {
	uint N, C, H, W;
	uint K, P, Q, pad;
	uint rowsPerChunk;
};

const uint WIN = (TP - 1) * STRIDE + RK;

void main() {
	uint nKB = (K + TK - 1) / TK, nCB = (C + TC - 1) / TC;
	uint pair = gl_GlobalInvocationID.x;
	if (pair >= nKB * nCB) return;
	uint kb = (pair % nKB) * TK, cb = (pair / nKB) * TC;
	uint chunk = gl_WorkGroupID.y;
	uint row0 = chunk * rowsPerChunk, row1 = min(row0 + rowsPerChunk, N * P);
	uint tilesPerRow = (Q + TP - 1) / TP;

	vec4 acc[TK / 4][TC][RK][RK];
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
		[[unroll]] for (uint c = 0; c < TC; c++)
			[[unroll]] for (uint r = 0; r < RK; r++)
				[[unroll]] for (uint s = 0; s < RK; s++) acc[kq][c][r][s] = vec4(0);

	for (uint row = row0; row < row1; row++) {
		uint n = row / P, p = row % P;
		for (uint t = 0; t < tilesPerRow; t++) {
			uint q0 = t * TP;
			vec4 g[TK / 4][TP];
			[[unroll]] for (uint kq = 0; kq < TK / 4; kq++) {
				[[unroll]] for (uint j = 0; j < TP; j++) {
					vec4 v = vec4(0);
					if (q0 + j < Q) {
						[[unroll]] for (uint u = 0; u < 4; u++) {
							uint k = kb + 4 * kq + u;
							v[u] = k < K ? dy[((n * K + k) * P + p) * Q + q0 + j] : 0.0;
						}
					}
					g[kq][j] = v;
				}
			}
			int col0 = int(q0 * STRIDE) - int(pad);
			[[unroll]] for (uint c = 0; c < TC; c++) {
				if (cb + c >= C) break;
				[[unroll]] for (uint r = 0; r < RK; r++) {
					int h = int(p * STRIDE + r) - int(pad);
					if (h < 0 || h >= int(H)) continue;
					uint base = ((n * C + cb + c) * H + uint(h)) * W;
					float seg[WIN];
					[[unroll]] for (uint i = 0; i < WIN; i++) {
						int col = col0 + int(i);
						seg[i] = (col >= 0 && col < int(W)) ? x[base + uint(col)] : 0.0;
					}
					[[unroll]] for (uint s = 0; s < RK; s++)
						[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
							[[unroll]] for (uint j = 0; j < TP; j++) acc[kq][c][r][s] += g[kq][j] * seg[j * STRIDE + s];
				}
			}
		}
	}
	uint len = K * C * RK * RK;
	[[unroll]] for (uint kq = 0; kq < TK / 4; kq++)
		[[unroll]] for (uint u = 0; u < 4; u++) {
			uint k = kb + 4 * kq + u;
			if (k >= K) continue;
			[[unroll]] for (uint c = 0; c < TC; c++) {
				if (cb + c >= C) continue;
				[[unroll]] for (uint r = 0; r < RK; r++)
					[[unroll]] for (uint s = 0; s < RK; s++)
						partial[chunk * len + ((k * C + cb + c) * RK + r) * RK + s] = acc[kq][c][r][s][u];
			}
		}
}
