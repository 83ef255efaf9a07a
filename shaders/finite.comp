#version 450
// finite: flag[0] |= 1 where some x[i], i < n, is infinite or NaN. The
// caller zeroes flag first (a fill); any grid size works. Tested on the
// bits: a shader compiler may assume floats finite and fold isnan and
// isinf to false.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) buffer Flag { uint flag[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	bool bad = false;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) bad = bad || (x[i] & 0x7f800000u) == 0x7f800000u;
	if (bad) atomicOr(flag[0], 1u);
}
