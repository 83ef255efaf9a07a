// Push constants shared by the convolution shaders. Input x is N x C x H x W,
// output y is N x K x P x Q, weights w are K x C x R x R (NCHW throughout).
layout(push_constant) uniform ConvParams {
	uint N, C, H, W;
	uint K, P, Q, R;
	uint stride, pad, hasBias, pad2;
};
