#version 450
// bn_eval_stats: eval-mode statistics: mean = running mean, invstd =
// 1/sqrt(running var + eps), for bn_apply.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer RunMean { float runMean[]; };
layout(std430, binding = 1) readonly buffer RunVar { float runVar[]; };
layout(std430, binding = 2) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 3) writeonly buffer Invstd { float invstd[]; };
layout(push_constant) uniform P { uint C; float eps; };

void main() {
	uint c = gl_GlobalInvocationID.x;
	if (c >= C) return;
	mean[c] = runMean[c];
	invstd[c] = inversesqrt(runVar[c] + eps);
}
