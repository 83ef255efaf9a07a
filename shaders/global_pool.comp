#version 450
// global_pool: y[nc] = mean of x[nc, 0..L-1] (global average pooling),
// one invocation per (n, c).
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint NC, L; };

void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= NC) return;
	float s = 0.0;
	for (uint j = 0; j < L; j++) s += x[i * L + j];
	y[i] = s / float(L);
}
