package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

var bnShapes = []Shape{{128, 16, 32, 32}, {128, 32, 16, 16}, {128, 64, 8, 8}, {3, 5, 9, 9}, {1, 1, 1, 3}}

func submit(t *testing.T, m *gpu.Manager, record func(s *gpu.Sequence)) {
	t.Helper()
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	defer s.Close()
	record(s)
	require.NoError(t, s.Submit())
}

func TestBatchNormGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(31, 32))
	// Both ways of reading the tensors: texel bindings (CPU devices) and
	// storage buffers (GPUs, and tensors past the device's texel views).
	for _, texel := range []bool{true, false} {
		for _, in := range bnShapes {
			for _, mode := range []struct{ relu, res bool }{{false, false}, {true, false}, {true, true}} {
				t.Run(fmt.Sprintf("texel=%v/%v/relu=%v/res=%v", texel, in, mode.relu, mode.res), func(t *testing.T) {
					bn, err := newBatchNormGPU(m, in, DefaultBN, mode.relu, mode.res, texel)
					require.NoError(t, err)
					n, C := in.Len(), in.C
					x, res, dy := testgpu.Rand(rng, n), testgpu.Rand(rng, n), testgpu.Rand(rng, n)
					for i := range x {
						x[i] = 3*x[i] + 0.5 // a mean and variance away from 0 and 1
					}
					gamma, beta := testgpu.Rand(rng, C), testgpu.Rand(rng, C)
					rm, rv := testgpu.Rand(rng, C), testgpu.Rand(rng, C)
					for i := range rv {
						rv[i] = 1 + rv[i]*rv[i]
					}
					a := BNArgs{X: testgpu.Upload(t, m, x), Y: testgpu.Poisoned(t, m, n), Gamma: testgpu.Upload(t, m, gamma),
						Beta: testgpu.Upload(t, m, beta), RunMean: testgpu.Upload(t, m, rm), RunVar: testgpu.Upload(t, m, rv),
						Mean: testgpu.Poisoned(t, m, C), Invstd: testgpu.Poisoned(t, m, C), Res: testgpu.Upload(t, m, res)}
					g := BNGrads{DY: testgpu.Upload(t, m, dy), DX: testgpu.Poisoned(t, m, n), DGamma: testgpu.Poisoned(t, m, C),
						DBeta: testgpu.Poisoned(t, m, C), DRes: testgpu.Poisoned(t, m, n)}
					submit(t, m, func(s *gpu.Sequence) {
						bn.ForwardTrain(s, a)
						bn.Backward(s, a, g)
					})

					// CPU: y = relu(bn(x) + res); backward through the ReLU, then the BN.
					y, mean, invstd := make([]float32, n), make([]float32, C), make([]float32, C)
					BNForwardTrain(DefaultBN, in, x, gamma, beta, rm, rv, y, mean, invstd)
					gy := dy
					if mode.res {
						for i := range y {
							y[i] += res[i]
						}
					}
					get := func(a gpu.Arg, n int) []float32 { return testgpu.Download(t, a.(*gpu.Buffer), n) }
					gpuY := get(a.Y, n)
					if mode.relu {
						ReLU(y, y)
						// The mask comes from the GPU's output: where y is within
						// rounding of 0 the two paths may disagree on its sign.
						gy = make([]float32, n)
						ReLUBackward(gpuY, dy, gy)
					}
					dx, dgamma, dbeta := make([]float32, n), make([]float32, C), make([]float32, C)
					BNBackward(in, x, gy, gamma, mean, invstd, dx, dgamma, dbeta)

					testgpu.Close(t, "y", gpuY, y, 1e-4)
					testgpu.Close(t, "running mean", get(a.RunMean, C), rm, 1e-5)
					testgpu.Close(t, "running var", get(a.RunVar, C), rv, 1e-5)
					testgpu.Close(t, "dx", get(g.DX, n), dx, 1e-4)
					testgpu.Close(t, "dgamma", get(g.DGamma, C), dgamma, 1e-4)
					testgpu.Close(t, "dbeta", get(g.DBeta, C), dbeta, 1e-4)
					if mode.res {
						testgpu.Close(t, "dres", get(g.DRes, n), gy, 1e-6)
					}

					// Eval mode with the updated running statistics.
					a.Y = testgpu.Poisoned(t, m, n)
					submit(t, m, func(s *gpu.Sequence) { bn.ForwardEval(s, a) })
					BNForwardEval(DefaultBN, in, x, gamma, beta, rm, rv, y)
					if mode.res {
						for i := range y {
							y[i] += res[i]
						}
					}
					if mode.relu {
						ReLU(y, y)
					}
					testgpu.Close(t, "eval y", get(a.Y, n), y, 1e-4)
				})
			}
		}
	}
}

func TestShortcutAGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(33, 34))
	for _, tc := range []struct {
		a  ShortcutA
		in Shape
	}{{ShortcutA{16, 32, 2}, Shape{128, 16, 32, 32}}, {ShortcutA{32, 64, 2}, Shape{128, 32, 16, 16}}, {ShortcutA{5, 8, 2}, Shape{3, 5, 9, 9}}} {
		g, err := NewShortcutAGPU(m, tc.a, tc.in)
		require.NoError(t, err)
		x, dy, dx0 := testgpu.Rand(rng, tc.in.Len()), testgpu.Rand(rng, g.Out.Len()), testgpu.Rand(rng, tc.in.Len())
		yb, dxb := testgpu.Poisoned(t, m, g.Out.Len()), testgpu.Upload(t, m, dx0)
		submit(t, m, func(s *gpu.Sequence) {
			g.Forward(s, testgpu.Upload(t, m, x), yb)
			g.BackwardAdd(s, testgpu.Upload(t, m, dy), dxb)
		})
		y := make([]float32, g.Out.Len())
		ShortcutAForward(tc.a, tc.in, x, y)
		ShortcutABackwardAdd(tc.a, tc.in, dy, dx0)
		testgpu.Close(t, "shortcut y", testgpu.Download(t, yb, len(y)), y, 1e-7)
		testgpu.Close(t, "shortcut dx", testgpu.Download(t, dxb, len(dx0)), dx0, 1e-7)
	}
}

func TestPoolGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(35, 36))
	for _, in := range []Shape{{128, 16, 32, 32}, {3, 5, 9, 9}} {
		for _, p := range []Pool2D{{Max: true, Kernel: 3, Stride: 2, Pad: 1}, {Max: false, Kernel: 3, Stride: 2, Pad: 1}, {Max: true, Kernel: 2, Stride: 2}, {Kernel: 2, Stride: 1}} {
			g, err := NewPoolGPU(m, p, in)
			require.NoError(t, err)
			o := g.Out
			x, dy := testgpu.Rand(rng, in.Len()), testgpu.Rand(rng, o.Len())
			yb, dxb := testgpu.Poisoned(t, m, o.Len()), testgpu.Poisoned(t, m, in.Len())
			submit(t, m, func(s *gpu.Sequence) {
				g.Forward(s, testgpu.Upload(t, m, x), yb)
				g.Backward(s, testgpu.Upload(t, m, dy), dxb)
			})
			y, arg, dx := make([]float32, o.Len()), make([]int32, o.Len()), make([]float32, in.Len())
			PoolForward(p, in, x, y, arg)
			PoolBackward(p, in, dy, arg, dx)
			testgpu.Close(t, fmt.Sprintf("%+v y", p), testgpu.Download(t, yb, len(y)), y, 1e-6)
			testgpu.Close(t, fmt.Sprintf("%+v dx", p), testgpu.Download(t, dxb, len(dx)), dx, 1e-6)
		}
		g, err := NewGlobalPoolGPU(m, in)
		require.NoError(t, err)
		nc := in.N * in.C
		x, dy := testgpu.Rand(rng, in.Len()), testgpu.Rand(rng, nc)
		yb, dxb := testgpu.Poisoned(t, m, nc), testgpu.Poisoned(t, m, in.Len())
		submit(t, m, func(s *gpu.Sequence) {
			g.Forward(s, testgpu.Upload(t, m, x), yb)
			g.Backward(s, testgpu.Upload(t, m, dy), dxb)
		})
		y, dx := make([]float32, nc), make([]float32, in.Len())
		GlobalAvgPool(in, x, y)
		GlobalAvgPoolBackward(in, dy, dx)
		testgpu.Close(t, "global pool y", testgpu.Download(t, yb, nc), y, 1e-5)
		testgpu.Close(t, "global pool dx", testgpu.Download(t, dxb, len(dx)), dx, 1e-6)
	}
}

func TestLinearLossGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(37, 38))
	for _, tc := range []struct {
		l Linear
		n int
	}{{Linear{64, 10}, 128}, {Linear{7, 3}, 5}, {Linear{1, 1}, 1}} {
		l, n := tc.l, tc.n
		g, err := NewLinearGPU(m, l, n)
		require.NoError(t, err)
		ce, err := NewSoftmaxCEGPU(m, n, l.Out)
		require.NoError(t, err)
		x, w, b := testgpu.Rand(rng, n*l.In), testgpu.Rand(rng, l.Out*l.In), testgpu.Rand(rng, l.Out)
		labels := make([]int32, n)
		for i := range labels {
			labels[i] = int32(rng.IntN(l.Out))
		}
		lb, err := m.NewBuffer(uint64(4 * n))
		require.NoError(t, err)
		require.NoError(t, lb.WriteInt32(labels))
		xb, wb := testgpu.Upload(t, m, x), testgpu.Upload(t, m, w)
		zb, dzb, out := testgpu.Poisoned(t, m, n*l.Out), testgpu.Poisoned(t, m, n*l.Out), testgpu.Poisoned(t, m, 2)
		dxb, dwb, dbb := testgpu.Poisoned(t, m, n*l.In), testgpu.Poisoned(t, m, l.Out*l.In), testgpu.Poisoned(t, m, l.Out)
		submit(t, m, func(s *gpu.Sequence) {
			g.Forward(s, xb, wb, testgpu.Upload(t, m, b), zb)
			ce.Record(s, zb, lb, dzb, out)
			g.Backward(s, xb, wb, dzb, dxb, dwb, dbb)
		})
		z, dz := make([]float32, n*l.Out), make([]float32, n*l.Out)
		LinearForward(l, n, x, w, b, z)
		loss, correct := SoftmaxCE(n, l.Out, z, labels, dz)
		dx, dw, db := make([]float32, n*l.In), make([]float32, l.Out*l.In), make([]float32, l.Out)
		LinearBackward(l, n, x, w, dz, dx, dw, db)
		testgpu.Close(t, "logits", testgpu.Download(t, zb, len(z)), z, 1e-5)
		testgpu.Close(t, "dlogits", testgpu.Download(t, dzb, len(dz)), dz, 1e-5)
		testgpu.Close(t, "loss and correct", testgpu.Download(t, out, 2), []float32{loss, float32(correct)}, 1e-5)
		testgpu.Close(t, "linear dx", testgpu.Download(t, dxb, len(dx)), dx, 1e-5)
		testgpu.Close(t, "linear dw", testgpu.Download(t, dwb, len(dw)), dw, 1e-5)
		testgpu.Close(t, "linear db", testgpu.Download(t, dbb, len(db)), db, 1e-5)
	}
}

// TestOptimizersGPU runs SGD (plain and Nesterov) and AdamW on the GPU
// against their references for two steps with different hyperparameters
// from one recording: the words are read from the buffer at run time.
func TestOptimizersGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(39, 40))
	sgd, err := NewSGDGPU(m)
	require.NoError(t, err)
	adam, err := NewAdamWGPU(m)
	require.NoError(t, err)
	for _, n := range []int{1, 7, 272474} {
		for _, nesterov := range []bool{false, true} {
			o := SGD{LR: 0.1, Momentum: 0.9, WD: 1e-4, Nesterov: nesterov}
			w, grad, v := testgpu.Rand(rng, n), testgpu.Rand(rng, n), testgpu.Rand(rng, n)
			wb, gb, vb := testgpu.Upload(t, m, w), testgpu.Upload(t, m, grad), testgpu.Upload(t, m, v)
			words := o.Words()
			hb := testgpu.Upload(t, m, words[:])
			s, err := m.NewSequence(gpu.SequenceOptions{})
			require.NoError(t, err)
			sgd.Record(s, n, wb, gb, []gpu.Arg{vb}, hb)
			require.NoError(t, s.Submit())
			SGDStep(o, w, grad, v)
			o.LR, o.Momentum = 0.01, 0.5
			words = o.Words()
			require.NoError(t, hb.WriteFloat32(words[:]))
			require.NoError(t, s.Submit())
			s.Close()
			SGDStep(o, w, grad, v)
			testgpu.Close(t, fmt.Sprintf("sgd n=%d nesterov=%v w", n, nesterov), testgpu.Download(t, wb, n), w, 1e-6)
			testgpu.Close(t, fmt.Sprintf("sgd n=%d nesterov=%v v", n, nesterov), testgpu.Download(t, vb, n), v, 1e-6)
		}
		o := AdamW{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WD: 1e-2, Step: 1}
		w, grad := testgpu.Rand(rng, n), testgpu.Rand(rng, n)
		mo, v := make([]float32, n), make([]float32, n)
		wb, gb, mb, vb := testgpu.Upload(t, m, w), testgpu.Upload(t, m, grad), testgpu.Upload(t, m, mo), testgpu.Upload(t, m, v)
		words := o.Words()
		hb := testgpu.Upload(t, m, words[:])
		s, err := m.NewSequence(gpu.SequenceOptions{})
		require.NoError(t, err)
		adam.Record(s, n, wb, gb, []gpu.Arg{mb, vb}, hb)
		for step := 1; step <= 3; step++ {
			o.Step = step
			words = o.Words()
			require.NoError(t, hb.WriteFloat32(words[:]))
			require.NoError(t, s.Submit())
			AdamWStep(o, w, grad, mo, v)
		}
		s.Close()
		testgpu.Close(t, fmt.Sprintf("adamw n=%d w", n), testgpu.Download(t, wb, n), w, 1e-6)
		testgpu.Close(t, fmt.Sprintf("adamw n=%d m", n), testgpu.Download(t, mb, n), mo, 1e-6)
		testgpu.Close(t, fmt.Sprintf("adamw n=%d v", n), testgpu.Download(t, vb, n), v, 1e-6)
	}
}

// TestDropoutGPU: the GPU draws the CPU's mask, for the forward and the
// backward pass, at several sizes; about P of the elements are dropped.
func TestDropoutGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{1, 7, 1023, 1<<20 + 3} {
		for _, p := range []float64{0, 0.1, 0.5} {
			d := Dropout{P: p}
			g, err := NewDropoutGPU(m, d, n)
			require.NoError(t, err)
			x := testgpu.Rand(rng, n)
			yb := testgpu.Poisoned(t, m, n)
			seed := uint32(rng.Uint64())
			sb, err := m.NewBuffer(4)
			require.NoError(t, err)
			require.NoError(t, sb.WriteInt32([]int32{int32(seed)}))
			submit(t, m, func(s *gpu.Sequence) { g.Apply(s, 7, testgpu.Upload(t, m, x), yb, sb) })
			y := make([]float32, n)
			key := DropoutKey(seed, 7)
			DropoutApply(d, key, x, y)
			got := testgpu.Download(t, yb, n)
			require.Equal(t, y, got, "n=%d p=%g: the GPU's mask is the CPU's", n, p)
			if n > 1000 {
				dropped := 0
				for i := range n {
					if !d.Keep(key, i) {
						dropped++
					}
				}
				require.InDelta(t, p, float64(dropped)/float64(n), 0.02, "dropped fraction")
			}
		}
	}
	_, err := NewDropoutGPU(m, Dropout{P: 1}, 4)
	require.ErrorContains(t, err, "dropout probability 1")
}

// TestReLUGPU compares the standalone ReLU with its reference.
func TestReLUGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(43, 44))
	for _, n := range []int{1, 7, 1<<20 + 3} {
		g, err := NewReLUGPU(m, n)
		require.NoError(t, err)
		x, dy := testgpu.Rand(rng, n), testgpu.Rand(rng, n)
		yb, dxb := testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n)
		submit(t, m, func(s *gpu.Sequence) {
			g.Forward(s, testgpu.Upload(t, m, x), yb)
			g.Backward(s, yb, testgpu.Upload(t, m, dy), dxb)
		})
		y, dx := make([]float32, n), make([]float32, n)
		ReLU(x, y)
		ReLUBackward(y, dy, dx)
		require.Equal(t, y, testgpu.Download(t, yb, n))
		require.Equal(t, dx, testgpu.Download(t, dxb, n))
	}
}
