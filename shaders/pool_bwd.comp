#version 450
// pool_bwd: gradient of pool_fwd, gathered per input element (no atomics):
// the sum over the windows that cover it of dy (max pooling: only where
// it was the recorded maximum; average pooling: dy/(K*K)).
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool MAX = true;
layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Arg { int argmax[]; };
layout(std430, binding = 2) writeonly buffer DX { float dx[]; };
layout(push_constant) uniform P { uint NC, H, W, Ho, Wo, K, S, PAD; };

void main() {
	uint total = NC * H * W, stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
		uint w = i % W, h = (i / W) % H, nc = i / (W * H);
		float g = 0.0;
		// Windows p with p*S - PAD <= h <= p*S - PAD + K - 1.
		int hp = int(h + PAD), wp = int(w + PAD);
		int p0 = max(0, (hp - int(K) + int(S)) / int(S)), p1 = min(int(Ho) - 1, hp / int(S));
		int q0 = max(0, (wp - int(K) + int(S)) / int(S)), q1 = min(int(Wo) - 1, wp / int(S));
		for (int p = p0; p <= p1; p++) {
			if (hp - p * int(S) >= int(K) || hp < p * int(S)) continue;
			for (int q = q0; q <= q1; q++) {
				if (wp - q * int(S) >= int(K) || wp < q * int(S)) continue;
				uint o = (nc * Ho + uint(p)) * Wo + uint(q);
				if (MAX) {
					if (argmax[o] == int(i)) g += dy[o];
				} else {
					g += dy[o];
				}
			}
		}
		dx[i] = MAX ? g : g / float(K * K);
	}
}
