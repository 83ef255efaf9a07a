package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/perf"
)

// timeBench times record on the device (timestamps, median of 3 after a
// warm-up, each b.Loop iteration) and reports its ms; it returns the ns.
func timeBench(b *testing.B, m *gpu.Manager, record func(s *gpu.Sequence)) float64 {
	s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	record(s)
	var ns float64
	for b.Loop() {
		if ns, err = perf.Sample(s, 1, 3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(ns/1e6, "ms")
	return ns
}

// reportGBs times record on the device (timestamps, median) and reports
// GB/s for the given bytes moved.
func reportGBs(b *testing.B, m *gpu.Manager, bytes float64, record func(s *gpu.Sequence)) {
	b.ReportMetric(bytes/timeBench(b, m, record), "GB/s")
}

// BenchmarkBatchNorm: training forward (statistics and apply, fused ReLU)
// and backward at the ResNet-20 shapes, batch 128. Bytes: forward reads x
// twice and writes y; apply (eval mode) reads x and writes y; backward
// reads x, y, dy twice and writes dx.
// (The statistics pass reads x once.)
func BenchmarkBatchNorm(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, in := range bnShapes[:3] {
		bn, err := NewBatchNormGPU(m, in, DefaultBN, true, false)
		if err != nil {
			b.Fatal(err)
		}
		n, C := in.Len(), in.C
		up := func(k int) *gpu.Buffer { return testgpu.Upload(b, m, testgpu.Rand(rng, k)) }
		a := BNArgs{X: up(n), Y: up(n), Gamma: up(C), Beta: up(C), RunMean: up(C), RunVar: up(C), Mean: up(C), Invstd: up(C)}
		g := BNGrads{DY: up(n), DX: up(n), DGamma: up(C), DBeta: up(C)}
		b.Run(in.String()+"/forward", func(b *testing.B) {
			reportGBs(b, m, float64(3*4*n), func(s *gpu.Sequence) { bn.ForwardTrain(s, a) })
		})
		b.Run(in.String()+"/apply", func(b *testing.B) { // eval mode: the apply alone, running statistics
			reportGBs(b, m, float64(2*4*n), func(s *gpu.Sequence) { bn.ForwardEval(s, a) })
		})
		b.Run(in.String()+"/backward", func(b *testing.B) {
			reportGBs(b, m, float64(7*4*n), func(s *gpu.Sequence) { bn.Backward(s, a, g) })
		})
	}
}

// BenchmarkPool: max pooling 3x3/2 and global average pooling, forward and
// backward, batch 128.
func BenchmarkPool(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(2, 2))
	for _, in := range bnShapes[:3] {
		p, err := NewPoolGPU(m, Pool2D{Max: true, Kernel: 3, Stride: 2, Pad: 1}, in)
		if err != nil {
			b.Fatal(err)
		}
		gp, err := NewGlobalPoolGPU(m, in)
		if err != nil {
			b.Fatal(err)
		}
		x, dx := testgpu.Upload(b, m, testgpu.Rand(rng, in.Len())), testgpu.Poisoned(b, m, in.Len())
		y, g := testgpu.Poisoned(b, m, p.Out.Len()), testgpu.Poisoned(b, m, in.N*in.C)
		xb, yb := float64(in.Bytes()), float64(p.Out.Bytes())
		b.Run(in.String()+"/maxpool/forward", func(b *testing.B) {
			reportGBs(b, m, xb+2*yb, func(s *gpu.Sequence) { p.Forward(s, x, y) })
		})
		b.Run(in.String()+"/maxpool/backward", func(b *testing.B) {
			reportGBs(b, m, xb+2*yb, func(s *gpu.Sequence) { p.Backward(s, y, dx) })
		})
		b.Run(in.String()+"/global/forward", func(b *testing.B) {
			reportGBs(b, m, xb, func(s *gpu.Sequence) { gp.Forward(s, x, g) })
		})
		b.Run(in.String()+"/global/backward", func(b *testing.B) {
			reportGBs(b, m, xb, func(s *gpu.Sequence) { gp.Backward(s, g, dx) })
		})
	}
}

// BenchmarkSGD: one update of ResNet-20's 269,722 parameters (reads w, g,
// v; writes w, v).
func BenchmarkSGD(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 269722
	o, err := NewSGDGPU(m)
	if err != nil {
		b.Fatal(err)
	}
	words := SGD{LR: 1e-3, Momentum: 0.9, WD: 1e-4}.Words()
	h := testgpu.Upload(b, m, words[:])
	w, g, v := testgpu.Upload(b, m, testgpu.Rand(rng, n)), testgpu.Upload(b, m, testgpu.Rand(rng, n)), testgpu.Upload(b, m, testgpu.Rand(rng, n))
	reportGBs(b, m, 5*4*n, func(s *gpu.Sequence) { o.Record(s, n, w, g, []gpu.Arg{v}, h) })
}

// BenchmarkShortcutA: option-A shortcut forward and backward (accumulate)
// at ResNet-20's two transitions, batch 128.
func BenchmarkShortcutA(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct {
		a  ShortcutA
		in Shape
	}{{ShortcutA{16, 32, 2}, Shape{128, 16, 32, 32}}, {ShortcutA{32, 64, 2}, Shape{128, 32, 16, 16}}} {
		g, err := NewShortcutAGPU(m, tc.a, tc.in)
		if err != nil {
			b.Fatal(err)
		}
		x, dx := testgpu.Upload(b, m, testgpu.Rand(rng, tc.in.Len())), testgpu.Upload(b, m, testgpu.Rand(rng, tc.in.Len()))
		y := testgpu.Poisoned(b, m, g.Out.Len())
		ob := float64(g.Out.Bytes())
		b.Run(tc.in.String()+"/forward", func(b *testing.B) {
			reportGBs(b, m, ob+ob/2, func(s *gpu.Sequence) { g.Forward(s, x, y) })
		})
		b.Run(tc.in.String()+"/backward", func(b *testing.B) {
			reportGBs(b, m, float64(2*tc.in.Bytes())+ob/2, func(s *gpu.Sequence) { g.BackwardAdd(s, y, dx) })
		})
	}
}

// BenchmarkLinearLoss: ResNet-20's head at batch 128 — the 64→10 linear
// layer, softmax cross-entropy with its gradient, and the linear backward.
func BenchmarkLinearLoss(b *testing.B) {
	m := testgpu.OpenBench(b)
	rng := rand.New(rand.NewPCG(5, 5))
	l, n := Linear{In: 64, Out: 10}, 128
	g, err := NewLinearGPU(m, l, n)
	if err != nil {
		b.Fatal(err)
	}
	ce, err := NewSoftmaxCEGPU(m, n, l.Out)
	if err != nil {
		b.Fatal(err)
	}
	labels, err := m.NewBuffer(uint64(4 * n))
	if err != nil {
		b.Fatal(err)
	}
	if err := labels.WriteInt32(make([]int32, n)); err != nil {
		b.Fatal(err)
	}
	up := func(k int) *gpu.Buffer { return testgpu.Upload(b, m, testgpu.Rand(rng, k)) }
	x, w, bias, z, dz, out, dx, dw, db := up(n*l.In), up(l.Out*l.In), up(l.Out), up(n*l.Out), up(n*l.Out), up(2), up(n*l.In), up(l.Out*l.In), up(l.Out)
	bytes := float64(4 * (2*n*l.In + 3*l.Out*l.In + 4*n*l.Out))
	reportGBs(b, m, bytes, func(s *gpu.Sequence) {
		g.Forward(s, x, w, bias, z)
		ce.Record(s, z, labels, dz, out)
		g.Backward(s, x, w, dz, dx, dw, db)
	})
}
