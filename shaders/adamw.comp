#version 450
// adamw: AdamW (Loshchilov and Hutter; PyTorch's torch.optim.AdamW) for a
// flat range of parameters: w *= 1 - lr*wd; m = b1*m + (1-b1)*g;
// v = b2*v + (1-b2)*g*g; w -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps),
// with bc1 = 1 - b1^t and bc2 = 1 - b2^t at step t. The host computes
// the words in hyper (one parameter group's) every step:
// [0] 1 - lr*wd, [1] b1, [2] 1-b1, [3] b2, [4] 1-b2, [5] lr/bc1,
// [6] sqrt(bc2), [7] eps.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Wt { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer H { float hyper[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	float decay = hyper[0], b1 = hyper[1], c1 = hyper[2], b2 = hyper[3], c2 = hyper[4];
	float step = hyper[5], bc2 = hyper[6], eps = hyper[7];
	uint stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
		float gi = g[i];
		float mi = b1 * m[i] + c1 * gi;
		float vi = b2 * v[i] + c2 * (gi * gi);
		m[i] = mi;
		v[i] = vi;
		w[i] = w[i] * decay - step * (mi / (sqrt(vi) / bc2 + eps));
	}
}
