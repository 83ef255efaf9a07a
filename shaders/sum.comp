#version 450
// sum: out[g] = sum of x[i] over the i that workgroup g visits in a
// grid-stride loop. Dispatched with G groups it leaves G partial sums;
// dispatched again with one group on those partials it leaves the total.
// Each invocation adds its items serially, then the group adds the
// invocations' sums in a shared-memory tree (no float atomics). The
// workgroup size (constant 0) must be a power of two.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer O { float partial[]; };
layout(push_constant) uniform P { uint n; };

shared float acc[gl_WorkGroupSize.x];

void main() {
	uint t = gl_LocalInvocationID.x;
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	float s = 0.0;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) s += x[i];
	acc[t] = s;
	barrier();
	for (uint h = gl_WorkGroupSize.x / 2; h > 0; h >>= 1) {
		if (t < h) acc[t] += acc[t + h];
		barrier();
	}
	if (t == 0) partial[gl_WorkGroupID.x] = acc[0];
}
