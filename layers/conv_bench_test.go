package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

// BenchmarkConv times each pass of each ResNet-20 convolution at batch 128
// on the GPU (device timestamps, median of runs after a warm-up) and
// reports GFLOP/s: 2*N*K*C*R*S*P*Q per pass.
func BenchmarkConv(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range []ConvVersion{ConvV4, ConvV3, ConvV2, ConvV1} {
		if v >= ConvV3 && DefaultConvVersion(m.Info()) < ConvV3 {
			continue // v3 and v4 are for CPU devices
		}
		for _, tc := range resnetConvs[:5] {
			g, err := NewConvGPU(m, tc.c, tc.in, v)
			if err != nil {
				b.Fatal(err)
			}
			x, w := testgpu.Upload(b, m, testgpu.Rand(rng, tc.in.Len())), testgpu.Upload(b, m, testgpu.Rand(rng, tc.c.WeightLen()))
			y, dy := testgpu.Upload(b, m, testgpu.Rand(rng, g.Out.Len())), testgpu.Upload(b, m, testgpu.Rand(rng, g.Out.Len()))
			dx, dw := testgpu.Poisoned(b, m, tc.in.Len()), testgpu.Poisoned(b, m, tc.c.WeightLen())
			passes := map[string]func(s *gpu.Sequence){
				"fwd":   func(s *gpu.Sequence) { g.Forward(s, x, w, nil, y) },
				"dgrad": func(s *gpu.Sequence) { g.BackwardData(s, dy, w, dx) },
				"wgrad": func(s *gpu.Sequence) { g.BackwardWeights(s, x, dy, dw, nil) },
			}
			for _, pass := range []string{"fwd", "dgrad", "wgrad"} {
				b.Run(v.String()+"/"+tc.name+"/"+pass, func(b *testing.B) {
					b.ReportMetric(tc.c.FLOPs(tc.in)/timeBench(b, m, passes[pass]), "GFLOP/s")
				})
			}
		}
	}
}
