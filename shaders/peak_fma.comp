#version 450
#extension GL_EXT_control_flow_attributes : require
// peak_fma: fp32 FMA throughput. Each invocation runs 8 independent vec4
// FMA chains for iters steps (64 flops a step; iters a multiple of 8) and
// stores their sum so that nothing is optimised away. a must keep the
// chains finite (|a| < 1). The loop body holds 8 steps: on lavapipe a
// loop iteration's own work (counter, exec mask) is not negligible, and
// one step per iteration measured 38-47 GFLOP/s where 8 give 70-86.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer O { vec4 o[]; };
layout(push_constant) uniform P { uint iters; float a; };

void main() {
	vec4 x0 = vec4(float(gl_GlobalInvocationID.x) * 1e-9);
	vec4 x1 = x0 + 0.1, x2 = x0 + 0.2, x3 = x0 + 0.3;
	vec4 x4 = x0 + 0.4, x5 = x0 + 0.5, x6 = x0 + 0.6, x7 = x0 + 0.7;
	vec4 b = vec4(a);
	for (uint i = 0; i < iters; i += 8) {
		[[unroll]] for (uint u = 0; u < 8; u++) {
			x0 = fma(x0, b, b); x1 = fma(x1, b, b); x2 = fma(x2, b, b); x3 = fma(x3, b, b);
			x4 = fma(x4, b, b); x5 = fma(x5, b, b); x6 = fma(x6, b, b); x7 = fma(x7, b, b);
		}
	}
	o[gl_GlobalInvocationID.x] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
}
