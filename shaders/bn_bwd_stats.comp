#version 450
// bn_bwd_stats: per channel, with g = dy masked by y > 0 when RELU (the
// gradient reaching the batch norm's output), dgamma = sum(g * xhat) and
// dbeta = sum(g), xhat = (x-mean)*invstd. One workgroup per channel; vec4
// loads when L is a multiple of 4 (VEC4).
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool RELU = false;
layout(constant_id = 1) const bool VEC4 = true;
layout(constant_id = 2) const bool TEXEL = true; // VEC4 reads through the texel bindings (CPU devices)
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) writeonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 6) writeonly buffer DBeta { float dbeta[]; };
// The VEC4 paths read the large tensors again through texel bindings:
// lavapipe fetches texels with vector gathers where it loads a storage
// buffer lane by lane (docs/perf.md).
layout(binding = 7) uniform samplerBuffer xt;
layout(binding = 8) uniform samplerBuffer yt;
layout(binding = 9) uniform samplerBuffer dyt;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) readonly buffer Y { vec4 y[]; };
layout(std430, binding = 2) readonly buffer DY { vec4 dy[]; };
layout(std430, binding = 0) readonly buffer X1 { float x1[]; };
layout(std430, binding = 1) readonly buffer Y1 { float y1[]; };
layout(std430, binding = 2) readonly buffer DY1 { float dy1[]; };
layout(push_constant) uniform P { uint N, C, L; };

shared float a[256];
shared float b[256];

void main() {
	uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
	float mu = mean[c];
	float sg = 0.0, sgx = 0.0;
	if (VEC4) {
		uint L4 = L / 4;
		// (n, r): image and offset in the plane of element j, stepped
		// without a division per element.
		uint dn = 256 / L4, dr = 256 % L4, n = t / L4, r = t % L4;
		for (uint j = t; j < N * L4; j += 256) {
			uint i = (n * C + c) * L4 + r;
			r += dr;
			n += dn;
			if (r >= L4) {
				r -= L4;
				n++;
			}
			vec4 g, yv, xv;
			if (TEXEL) {
				g = texelFetch(dyt, int(i));
				if (RELU) yv = texelFetch(yt, int(i));
				xv = texelFetch(xt, int(i));
			} else {
				g = dy[i];
				if (RELU) yv = y[i];
				xv = x[i];
			}
			if (RELU) g = mix(vec4(0.0), g, greaterThan(yv, vec4(0.0)));
			sg += (g.x + g.y) + (g.z + g.w);
			sgx += dot(g, xv - mu);
		}
	} else {
		uint dn = 256 / L, dr = 256 % L, n = t / L, r = t % L;
		for (uint j = t; j < N * L; j += 256) {
			uint i = (n * C + c) * L + r;
			r += dr;
			n += dn;
			if (r >= L) {
				r -= L;
				n++;
			}
			float g = dy1[i];
			if (RELU && y1[i] <= 0.0) g = 0.0;
			sg += g;
			sgx += g * (x1[i] - mu);
		}
	}
	a[t] = sg;
	b[t] = sgx;
	barrier();
	for (uint h = 128; h > 0; h >>= 1) {
		if (t < h) {
			a[t] += a[t + h];
			b[t] += b[t + h];
		}
		barrier();
	}
	if (t == 0) {
		dbeta[c] = a[0];
		dgamma[c] = b[0] * invstd[c];
	}
}
