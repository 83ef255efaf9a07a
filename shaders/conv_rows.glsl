// inputRow, shared by conv_v3 and conv_v3_wgrad: the WIN input columns
// q0*STRIDE-pad ... that a tile of TP output columns from q0 reads, from
// the input row starting at element row, times hz (0 for a row outside
// the input). Columns outside the row are 0. Every lane of the subgroup
// must call it (VEC takes neighbours' columns by shuffles).
//
// VEC=1 (3x3 kernel, padding 1, rows of whole vec4s, a subgroup's tiles
// starting on a row; the host checks): the lane reads its own TP*STRIDE
// columns as vec4s; column q0*STRIDE-1 is the left neighbour's last and,
// for stride 1, column q0+TP the right neighbour's first.
// Needs buffers x (float) and x4 (vec4) on the input, and TP, STRIDE,
// WIN, VEC; with TEXEL_ROWS defined, a samplerBuffer xt instead of x4
// (lavapipe fetches texels with vector gathers, docs/perf.md).
void inputRow(uint row, uint q0, float hz, uint pad, uint Wi, uint Wo, out float seg[WIN]) {
	if (VEC != 0) {
		float first = 0.0, last = 0.0;
		[[unroll]] for (uint i = 0; i < TP * STRIDE / 4; i++) {
#ifdef TEXEL_ROWS
			vec4 v = texelFetch(xt, int((row + q0 * STRIDE) / 4 + i)) * hz;
#else
			vec4 v = x4[(row + q0 * STRIDE) / 4 + i] * hz;
#endif
			[[unroll]] for (uint t = 0; t < 4; t++) seg[1 + 4 * i + t] = v[t];
			if (i == 0) first = v.x;
			if (i == TP * STRIDE / 4 - 1) last = v.w;
		}
		float left = subgroupShuffleUp(last, 1);
		float right = subgroupShuffleDown(first, 1);
		// Written as a loop: glslang rejects constant indices into
		// arrays sized by specialization constants.
		[[unroll]] for (uint i = 0; i < WIN; i += WIN - 1) {
			if (i == 0) seg[i] = q0 > 0 ? left : 0.0;
			else if (i > TP * STRIDE) seg[i] = q0 + TP < Wo ? right : 0.0;
		}
		return;
	}
	int col0 = int(q0 * STRIDE) - int(pad);
	[[unroll]] for (uint i = 0; i < WIN; i++) {
		int col = col0 + int(i);
		float v = x[row + uint(clamp(col, 0, int(Wi) - 1))];
		seg[i] = col >= 0 && col < int(Wi) ? v * hz : 0.0;
	}
}
