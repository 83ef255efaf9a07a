#version 450
// global_pool_bwd: dx[nc, j] = dy[nc] / L.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint NC, L; };

void main() {
	uint total = NC * L, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) dx[i] = dy[i / L] / float(L);
}
