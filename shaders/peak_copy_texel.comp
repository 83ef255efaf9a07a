#version 450
// peak_copy_texel: peak_copy reading through a uniform texel buffer
// (texelFetch) instead of a storage buffer.
layout(local_size_x_id = 0) in;
layout(binding = 0) uniform samplerBuffer src;
layout(std430, binding = 1) writeonly buffer D { vec4 dst[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) dst[i] = texelFetch(src, int(i));
}
