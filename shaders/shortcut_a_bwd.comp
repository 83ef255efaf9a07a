#version 450
// shortcut_a_bwd: dx += the option-A shortcut's gradient: dx[n,c,h,w] +=
// dy[n,c+lo,h/S,w/S] where h and w are multiples of S. Input (dx) is
// N x Ci x Hi x Wi, dy N x Co x Ho x Wo.
// One invocation per dy row of the channels that reach x (the divisions
// once a row); it adds into every S-th element of dx row h*S. Grid-stride.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint N, Ci, Hi, Wi, Co, Ho, Wo, lo, S; };

void main() {
	uint rows = N * Ci * Ho, stride = gl_NumWorkGroups.x * 256;
	for (uint row = gl_GlobalInvocationID.x; row < rows; row += stride) {
		uint h = row % Ho, c = (row / Ho) % Ci, n = row / (Ho * Ci);
		uint src = ((n * Co + c + lo) * Ho + h) * Wo, dst = ((n * Ci + c) * Hi + h * S) * Wi;
		for (uint w = 0; w < Wo; w++) dx[dst + w * S] += dy[src + w];
	}
}
