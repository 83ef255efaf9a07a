#version 450
// sgd: SGD with momentum and weight decay in PyTorch's form, for a flat
// range of parameters at once: d = g + wd*w; v = mu*v + d; then
// w -= lr*(d + mu*v) with Nesterov momentum, else w -= lr*v. lr, mu, wd
// and the Nesterov flag come from hyper[0..3] (one parameter group's
// words), so that a recorded step can follow a schedule without
// re-recording.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Wt { float w[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer H { float hyper[]; };
layout(push_constant) uniform P { uint n; };

void main() {
	float lr = hyper[0], mu = hyper[1], wd = hyper[2];
	bool nesterov = hyper[3] != 0.0;
	uint stride = gl_NumWorkGroups.x * 256;
	for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
		float d = g[i] + wd * w[i];
		float m = mu * v[i] + d;
		v[i] = m;
		w[i] -= lr * (nesterov ? d + mu * m : m);
	}
}
