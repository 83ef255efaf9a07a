#version 450
// axpy: y[i] += a * x[i] for i < n.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) buffer Y4 { vec4 y4[]; };
layout(push_constant) uniform P { uint n; float a; };

// vec4s for the first n/4*4 floats (a quarter of the loads on devices that
// load lane by lane), floats for the rest.
void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < n / 4; i += stride) y4[i] += a * x4[i];
	for (uint i = n / 4 * 4 + gl_GlobalInvocationID.x; i < n; i += stride) y[i] += a * x[i];
}
