#version 450
// reduce_partials: out[i] = sum over j < parts of partial[j*len + i]: the
// second stage of reductions split across workgroups (no float atomics).
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Part { float partial[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint len, parts; };

void main() {
	uint i = gl_GlobalInvocationID.x;
	if (i >= len) return;
	float s = 0.0;
	for (uint j = 0; j < parts; j++) s += partial[j * len + i];
	o[i] = s;
}
