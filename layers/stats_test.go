package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

// TestConvBNStats: a batch norm taking its statistics from the
// convolution before it (conv v4 WithStats, BatchNormGPU.TakeStats)
// equals the CPU's convolution and batch norm: the saved mean and inverse
// standard deviation, the running statistics and the output. Shapes with
// edge tiles (odd planes), channels past a whole block of TK, invocations
// past the last tile, one image, and a bias that moves the mean off 0.
func TestConvBNStats(t *testing.T) {
	m := testgpu.Open(t)
	if DefaultConvVersion(m.Info()) < ConvV4 {
		t.Skipf("conv v4 is not the default on %s", m.Info().Name)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	cases := append(append([]convCase{}, resnetConvs[0], resnetConvs[1], resnetConvs[2], resnetConvs[5]),
		convCase{"odd3x3s1", Conv2D{In: 5, Out: 7, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{3, 5, 9, 11}},
		convCase{"one image 20 channels", Conv2D{In: 4, Out: 20, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{1, 4, 7, 5}},
		convCase{"1x1 plane", Conv2D{In: 2, Out: 3, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{2, 2, 1, 1}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, in := tc.c, tc.in
			o := c.OutShape(in)
			conv, err := NewConvGPU(m, c, in, ConvV4)
			require.NoError(t, err)
			defer conv.Free()
			p, ok, err := conv.WithStats()
			require.NoError(t, err)
			require.True(t, ok, "conv v4 on %v takes no statistics", in)
			bn, err := NewBatchNormGPU(m, o, DefaultBN, true, false)
			require.NoError(t, err)
			require.NoError(t, bn.TakeStats(p))

			x, w, b := testgpu.Rand(rng, in.Len()), testgpu.Rand(rng, c.WeightLen()), testgpu.Rand(rng, c.Out)
			for i := range b {
				b[i] = 3 + b[i]
			}
			C := o.C
			gamma, beta, rm, rv := testgpu.Rand(rng, C), testgpu.Rand(rng, C), testgpu.Rand(rng, C), testgpu.Rand(rng, C)
			for i := range rv {
				rv[i] = 1 + rv[i]*rv[i]
			}
			yb := testgpu.Poisoned(t, m, o.Len())
			a := BNArgs{X: yb, Y: testgpu.Poisoned(t, m, o.Len()), Gamma: testgpu.Upload(t, m, gamma), Beta: testgpu.Upload(t, m, beta),
				RunMean: testgpu.Upload(t, m, rm), RunVar: testgpu.Upload(t, m, rv), Mean: testgpu.Poisoned(t, m, C), Invstd: testgpu.Poisoned(t, m, C)}
			submit(t, m, func(s *gpu.Sequence) {
				conv.Forward(s, testgpu.Upload(t, m, x), testgpu.Upload(t, m, w), testgpu.Upload(t, m, b), yb)
				bn.ForwardTrain(s, a)
			})

			bias := b
			if !c.Bias {
				bias = nil
			}
			y, z, mean, invstd := make([]float32, o.Len()), make([]float32, o.Len()), make([]float32, C), make([]float32, C)
			ConvForward(c, in, x, w, bias, y)
			BNForwardTrain(DefaultBN, o, y, gamma, beta, rm, rv, z, mean, invstd)
			ReLU(z, z)
			get := func(a gpu.Arg, n int) []float32 { return testgpu.Download(t, a.(*gpu.Buffer), n) }
			testgpu.Close(t, "conv y", get(yb, o.Len()), y, 1e-4)
			testgpu.Close(t, "mean", get(a.Mean, C), mean, 1e-5)
			testgpu.Close(t, "invstd", get(a.Invstd, C), invstd, 1e-5)
			testgpu.Close(t, "running mean", get(a.RunMean, C), rm, 1e-5)
			testgpu.Close(t, "running var", get(a.RunVar, C), rv, 1e-5)
			testgpu.Close(t, "bn y", get(a.Y, o.Len()), z, 1e-4)
		})
	}
}
