#version 450
// relu_bwd: dx[i] = y[i] > 0 ? dy[i] : 0, from the forward output y.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
}
