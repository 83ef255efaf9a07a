#version 450
// softmax_ce: softmax cross-entropy over N rows of O logits with integer
// labels, in one pass: dlogits = (softmax - onehot)/N, and out[0] = mean
// loss, out[1] = number of rows whose largest logit is the label. One
// workgroup; shared-memory tree for the sums.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Z { float z[]; };
layout(std430, binding = 1) readonly buffer L { int label[]; };
layout(std430, binding = 2) writeonly buffer DZ { float dz[]; };
layout(std430, binding = 3) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform P { uint N, O; };

shared float sl[64];
shared float sc[64];

void main() {
	uint t = gl_LocalInvocationID.x;
	float loss = 0.0, correct = 0.0;
	for (uint n = t; n < N; n += 64) {
		uint base = n * O;
		int y = label[n];
		float m = z[base];
		uint arg = 0;
		for (uint k = 1; k < O; k++) {
			if (z[base + k] > m) { m = z[base + k]; arg = k; }
		}
		float sum = 0.0;
		for (uint k = 0; k < O; k++) sum += exp(z[base + k] - m);
		float lse = m + log(sum);
		for (uint k = 0; k < O; k++) {
			float p = exp(z[base + k] - lse);
			dz[base + k] = (p - (int(k) == y ? 1.0 : 0.0)) / float(N);
		}
		loss += lse - z[base + uint(y)];
		if (int(arg) == y) correct += 1.0;
	}
	sl[t] = loss;
	sc[t] = correct;
	barrier();
	for (uint h = 32; h > 0; h >>= 1) {
		if (t < h) {
			sl[t] += sl[t + h];
			sc[t] += sc[t + h];
		}
		barrier();
	}
	if (t == 0) {
		outv[0] = sl[0] / float(N);
		outv[1] = sc[0];
	}
}
