#version 450
// channel_sum: out[c] = sum over n, i of x[n, c, i] for an N x C x L tensor;
// one workgroup per channel, a shared-memory tree at the end (no atomics).
// Used for bias gradients.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint N, C, L; };

shared float acc[256];

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float s = 0.0;
	for (uint j = t; j < N * L; j += 256) {
		uint n = j / L, i = j % L;
		s += x[(n * C + c) * L + i];
	}
	acc[t] = s;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) acc[t] += acc[t + h];
		barrier();
	}
	if (t == 0) o[c] = acc[0];
}
