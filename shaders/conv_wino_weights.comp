#version 450
// conv_wino_weights: the Winograd F(2x2, 3x3) transform of 3x3 weights,
// U = G g Gᵀ with G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], laid out for
// conv_wino: u[((kb * C + c) * 16 + e) * TK + kk] for output channel
// k = kb*TK + kk (zero past K). One invocation per (k, c).
//
// FLIP=0: g = w[k][c] (forward: K = Co, C = Ci). FLIP=1, for the data
// gradient: g = w[c][k] rotated 180° (K = Ci, the gradient's output; C =
// Co), which makes the data gradient a forward pass over dy.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TK = 8;
layout(constant_id = 2) const uint FLIP = 0;

layout(std430, binding = 0) readonly buffer Wt { float w[]; };
layout(std430, binding = 1) writeonly buffer Ut { float u[]; };
layout(push_constant) uniform Params { uint K, C; };

void main() {
	uint K4 = (K + TK - 1) / TK * TK;
	uint i = gl_GlobalInvocationID.x;
	if (i >= K4 * C) return;
	uint k = i / C, c = i % C;
	float g[3][3];
	for (uint r = 0; r < 3; r++)
		for (uint s = 0; s < 3; s++) {
			float v = 0.0;
			if (k < K) v = FLIP == 0 ? w[((k * C + c) * 3 + r) * 3 + s] : w[((c * K + k) * 3 + 2 - r) * 3 + 2 - s];
			g[r][s] = v;
		}
	float a[4][3]; // G g
	for (uint s = 0; s < 3; s++) {
		a[0][s] = g[0][s];
		a[1][s] = 0.5 * (g[0][s] + g[1][s] + g[2][s]);
		a[2][s] = 0.5 * (g[0][s] - g[1][s] + g[2][s]);
		a[3][s] = g[2][s];
	}
	uint base = (((k / TK) * C + c) * 16) * TK + k % TK;
	for (uint r = 0; r < 4; r++) {
		float o[4]; // (G g) Gᵀ
		o[0] = a[r][0];
		o[1] = 0.5 * (a[r][0] + a[r][1] + a[r][2]);
		o[2] = 0.5 * (a[r][0] - a[r][1] + a[r][2]);
		o[3] = a[r][2];
		for (uint j = 0; j < 4; j++) u[base + (r * 4 + j) * TK] = o[j];
	}
}
