#version 450
// shortcut_a: the paper's option-A shortcut, y = x subsampled by STRIDE in
// h and w, with zero channels padded on both sides: y[n,k,h,w] =
// x[n,k-lo,h*S,w*S] for lo <= k < lo+Ci, else 0. Output N x Co x Ho x Wo.
// One invocation per output row (the divisions once a row); grid-stride.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint N, Ci, Hi, Wi, Co, Ho, Wo, lo, S; };

void main() {
	uint rows = N * Co * Ho, stride = gl_NumWorkGroups.x * 256;
	for (uint row = gl_GlobalInvocationID.x; row < rows; row += stride) {
		uint h = row % Ho, k = (row / Ho) % Co, n = row / (Ho * Co);
		bool inside = k >= lo && k - lo < Ci;
		uint src = ((n * Ci + (inside ? k - lo : 0)) * Hi + h * S) * Wi;
		for (uint w = 0; w < Wo; w++) y[row * Wo + w] = inside ? x[src + w * S] : 0.0;
	}
}
