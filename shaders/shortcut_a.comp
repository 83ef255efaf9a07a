#version 450
// shortcut_a: the paper's option-A shortcut, y = x subsampled by STRIDE in
// h and w, with zero channels padded on both sides: y[n,k,h,w] =
// x[n,k-lo,h*S,w*S] for lo <= k < lo+Ci, else 0. Output N x Co x Ho x Wo.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint N, Ci, Hi, Wi, Co, Ho, Wo, lo, S; };

void main() {
	uint total = N * Co * Ho * Wo, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint w = i % Wo, h = (i / Wo) % Ho, k = (i / (Wo * Ho)) % Co, n = i / (Wo * Ho * Co);
		float v = 0.0;
		if (k >= lo && k - lo < Ci) v = x[((n * Ci + k - lo) * Hi + h * S) * Wi + w * S];
		y[i] = v;
	}
}
