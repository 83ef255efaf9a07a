#version 450
// peak_copy: device-memory copy bandwidth, dst[i] = src[i] as vec4.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer S { vec4 src[]; };
layout(std430, binding = 1) writeonly buffer D { vec4 dst[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) dst[i] = src[i];
}
