#version 450
// shortcut_a_bwd: dx += the option-A shortcut's gradient: dx[n,c,h,w] +=
// dy[n,c+lo,h/S,w/S] where h and w are multiples of S. Input (dx) is
// N x Ci x Hi x Wi, dy N x Co x Ho x Wo.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint N, Ci, Hi, Wi, Co, Ho, Wo, lo, S; };

void main() {
	uint total = N * Ci * Hi * Wi, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint w = i % Wi, h = (i / Wi) % Hi, c = (i / (Wi * Hi)) % Ci, n = i / (Wi * Hi * Ci);
		if (h % S == 0 && w % S == 0 && h / S < Ho && w / S < Wo)
			dx[i] += dy[((n * Co + c + lo) * Ho + h / S) * Wo + w / S];
	}
}
