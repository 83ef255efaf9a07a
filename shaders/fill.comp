#version 450
// fill: x[i] = value for i < n. Grid-stride loop, so any group count works.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer X { float x[]; };
layout(push_constant) uniform P { uint n; float value; };

void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) x[i] = value;
}
