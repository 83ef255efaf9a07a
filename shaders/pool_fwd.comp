#version 450
// pool_fwd: max (MAX) or average pooling with a K x K window, stride S,
// zero padding PAD, one invocation per output. Max pooling records the
// flat input index of each maximum for the backward pass; average pooling
// divides by K*K, padding included (PyTorch's default).
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool MAX = true;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer Arg { int argmax[]; };
layout(push_constant) uniform P { uint NC, H, W, Ho, Wo, K, S, PAD; };

void main() {
	uint total = NC * Ho * Wo, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint q = i % Wo, p = (i / Wo) % Ho, nc = i / (Wo * Ho);
		float best = MAX ? -1.0 / 0.0 : 0.0;
		int arg = -1;
		for (uint r = 0; r < K; r++) {
			int h = int(p * S + r) - int(PAD);
			if (h < 0 || h >= int(H)) continue;
			for (uint s = 0; s < K; s++) {
				int w = int(q * S + s) - int(PAD);
				if (w < 0 || w >= int(W)) continue;
				int j = int((nc * H + uint(h)) * W) + w;
				float v = x[j];
				if (MAX) {
					if (v > best || arg < 0) { best = v; arg = j; }
				} else {
					best += v;
				}
			}
		}
		y[i] = MAX ? best : best / float(K * K);
		if (MAX) argmax[i] = arg;
	}
}
