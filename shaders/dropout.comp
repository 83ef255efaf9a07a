#version 450
// dropout: training-mode dropout over n floats. Element i is kept when
// hash(i + key) / 2^32 >= p, with key = hash(seed[0] ^ hash(salt)): the
// mask is a function of the step's seed (written by the host each step),
// the layer's salt and the index, so the backward pass recomputes it
// instead of storing it, and the CPU reference draws the same one.
// y = keep ? x*scale : 0 with scale = 1/(1-p); the backward pass is the
// same map from dy to dx. hash is Wellons' lowbias32.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer S { uint seed[]; };
layout(push_constant) uniform P { uint n, salt; float p, scale; };

uint hash(uint v) {
	v ^= v >> 16;
	v *= 0x7feb352du;
	v ^= v >> 15;
	v *= 0x846ca68bu;
	v ^= v >> 16;
	return v;
}

void main() {
	uint key = hash(seed[0] ^ hash(salt));
	uint stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
		float u = float(hash(i + key) >> 8) * (1.0 / 16777216.0);
		y[i] = u >= p ? x[i] * scale : 0.0;
	}
}
