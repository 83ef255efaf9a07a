#version 450
// linear: the three passes of y = x W^T + b for x N x I, W O x I, by PASS:
// 0 forward y[n,o]; 1 dx[n,i] = sum_o dy[n,o] W[o,i];
// 2 dW[o,i] = sum_n dy[n,o] x[n,i] and, for i == 0, db[o] = sum_n dy[n,o].
// One invocation per output element (the layer is small).
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint PASS = 0;
layout(std430, binding = 0) readonly buffer A { float a[]; };  // x (0, 2) or dy (1)
layout(std430, binding = 1) readonly buffer Bm { float bm[]; }; // W (0, 1) or dy (2)
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Out { float o[]; };
layout(std430, binding = 4) writeonly buffer Out2 { float o2[]; };
layout(push_constant) uniform P { uint N, I, O; };

void main() {
	uint e = gl_GlobalInvocationID.x;
	if (PASS == 0) {
		if (e >= N * O) return;
		uint n = e / O, k = e % O;
		float s = bias[k];
		for (uint i = 0; i < I; i++) s += a[n * I + i] * bm[k * I + i];
		o[e] = s;
	} else if (PASS == 1) {
		if (e >= N * I) return;
		uint n = e / I, i = e % I;
		float s = 0.0;
		for (uint k = 0; k < O; k++) s += a[n * O + k] * bm[k * I + i];
		o[e] = s;
	} else {
		if (e >= O * I) return;
		uint k = e / I, i = e % I;
		float s = 0.0, sb = 0.0;
		for (uint n = 0; n < N; n++) {
			float g = bm[n * O + k];
			s += g * a[n * I + i];
			sb += g;
		}
		o[e] = s;
		if (i == 0) o2[k] = sb;
	}
}
