package gpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/shaders"
)

const local = 256

// The first kernels, with their Go references. They prove the path from
// GLSL to dispatch end to end.
var (
	fillSpec    = gpu.KernelSpec{Name: "fill", Code: shaders.Code("fill"), Access: "w", PushBytes: 8, Spec: []uint32{local}}
	axpySpec    = gpu.KernelSpec{Name: "axpy", Code: shaders.Code("axpy"), Access: "rb", PushBytes: 8, Spec: []uint32{local}}
	reluFwdSpec = gpu.KernelSpec{Name: "relu_fwd", Code: shaders.Code("relu_fwd"), Access: "rw", PushBytes: 4, Spec: []uint32{local}}
	reluBwdSpec = gpu.KernelSpec{Name: "relu_bwd", Code: shaders.Code("relu_bwd"), Access: "rrw", PushBytes: 4, Spec: []uint32{local}}
	sumSpec     = gpu.KernelSpec{Name: "sum", Code: shaders.Code("sum"), Access: "rw", PushBytes: 4, Spec: []uint32{local}}
)

var sizes = []int{1, 7, 1023, 1<<20 + 3}

func kernel(t testing.TB, m *gpu.Manager, s gpu.KernelSpec) *gpu.Kernel {
	t.Helper()
	k, err := m.Kernel(s)
	require.NoError(t, err)
	return k
}

func run(t testing.TB, m *gpu.Manager, record func(s *gpu.Sequence)) *gpu.Sequence {
	t.Helper()
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	record(s)
	require.NoError(t, s.Submit())
	return s
}

// groups caps the grid so that the grid-stride loops are exercised too.
func groups(n int) gpu.Groups { return gpu.Groups{min(gpu.Grid(n, local), 1024), 1, 1} }

func TestElementwiseKernels(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(3, 4))
	fill, axpy := kernel(t, m, fillSpec), kernel(t, m, axpySpec)
	fwd, bwd := kernel(t, m, reluFwdSpec), kernel(t, m, reluBwdSpec)
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			x, y0, dy := testgpu.Rand(rng, n), testgpu.Rand(rng, n), testgpu.Rand(rng, n)
			a := 2*rng.Float32() - 1
			value := rng.Float32()

			xb, yb, dyb := testgpu.Upload(t, m, x), testgpu.Upload(t, m, y0), testgpu.Upload(t, m, dy)
			filled, relu, dx := testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n)
			un := uint32(n)
			run(t, m, func(s *gpu.Sequence) {
				s.Dispatch(fill, groups(n), []uint32{un, math.Float32bits(value)}, filled)
				s.Dispatch(axpy, groups(n), []uint32{un, math.Float32bits(a)}, xb, yb)
				s.Dispatch(fwd, groups(n), []uint32{un}, xb, relu)
				s.Dispatch(bwd, groups(n), []uint32{un}, relu, dyb, dx)
			})

			wantFill, wantAxpy := make([]float32, n), make([]float32, n)
			wantRelu, wantDx := make([]float32, n), make([]float32, n)
			for i := range n {
				wantFill[i] = value
				wantAxpy[i] = y0[i] + a*x[i]
				if x[i] > 0 {
					wantRelu[i], wantDx[i] = x[i], dy[i]
				}
			}
			testgpu.Close(t, "fill", testgpu.Download(t, filled, n), wantFill, 1e-7)
			testgpu.Close(t, "axpy", testgpu.Download(t, yb, n), wantAxpy, 1e-6)
			testgpu.Close(t, "relu forward", testgpu.Download(t, relu, n), wantRelu, 1e-7)
			testgpu.Close(t, "relu backward", testgpu.Download(t, dx, n), wantDx, 1e-7)
		})
	}
}

func TestSum(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(5, 6))
	sum := kernel(t, m, sumSpec)
	for _, n := range sizes {
		x := testgpu.Rand(rng, n)
		var want float64
		for _, v := range x {
			want += float64(v)
		}
		g := groups(n)
		partial, out := testgpu.Poisoned(t, m, int(g[0])), testgpu.Poisoned(t, m, 1)
		run(t, m, func(s *gpu.Sequence) {
			s.Dispatch(sum, g, []uint32{uint32(n)}, testgpu.Upload(t, m, x), partial)
			s.Dispatch(sum, gpu.Groups{1, 1, 1}, []uint32{g[0]}, partial, out)
		})
		got := testgpu.Download(t, out, 1)[0]
		// Summation order differs from the reference: allow float32 rounding
		// of partial sums, relative to the sum of magnitudes.
		require.InDelta(t, want, float64(got), 1e-6*float64(n)+1e-6, "n=%d", n)
	}
}
