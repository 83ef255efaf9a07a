// Package nntest holds nn models to their CPU reference in tests: the
// same model trained on the GPU and on the CPU from the same state and
// batches, compared tensor by tensor.
package nntest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/nn"
)

// Batch makes a learnable batch of n samples of shape in: each sample is
// its class's smooth pattern plus noise, roughly normalised.
func Batch(rng *rand.Rand, in nn.Shape, n, classes int) ([]float32, []int32) {
	x := make([]float32, n*in.Len())
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(rng.IntN(classes))
		k := float64(y[i]+1) / float64(classes)
		for c := range in.C {
			for h := range in.H {
				for w := range in.W {
					v := math.Sin(k*float64(h+3*c)) * math.Cos(k*float64(w)*0.7)
					x[i*in.Len()+(c*in.H+h)*in.W+w] = float32(v + 0.3*(2*rng.Float64()-1))
				}
			}
		}
	}
	return x, y
}

// Pair is a model on the GPU (validation layer on) and on the CPU
// reference, from one initial state.
type Pair struct {
	Model *nn.Model
	Opt   nn.Optimizer
	GPU   *nn.GPU
	CPU   *nn.CPU
	rng   *rand.Rand
	batch int
	steps int
}

// NewPair builds both executors for batches of batch and sets both to
// m.Init(seed).
func NewPair(t testing.TB, m *nn.Model, opt nn.Optimizer, batch int, seed uint64) *Pair {
	t.Helper()
	mgr := testgpu.Open(t)
	g, err := nn.NewGPU(mgr, m, opt, batch, nn.Options{Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { g.Close() })
	c, err := nn.NewCPU(m, opt, batch, nn.Options{Seed: seed})
	require.NoError(t, err)
	st := m.Init(seed)
	require.NoError(t, g.SetState(st))
	require.NoError(t, c.SetState(st))
	return &Pair{Model: m, Opt: opt, GPU: g, CPU: c, rng: rand.New(rand.NewPCG(seed, 5)), batch: batch}
}

// Step trains both on one new batch at learning rate lr, the CPU taking
// the GPU's ReLU and max-pool decisions (nn.Decisions); the losses must
// agree to tol. It logs how many of the CPU's own decisions differed.
func (p *Pair) Step(t testing.TB, lr, tol float64) {
	t.Helper()
	x, y := Batch(p.rng, p.Model.Input, p.batch, p.Model.Classes)
	gl, gc, err := p.GPU.Step(x, y, lr)
	require.NoError(t, err)
	d, err := p.GPU.Decisions()
	require.NoError(t, err)
	p.CPU.Follow(d)
	cl, cc, err := p.CPU.Step(x, y, lr)
	require.NoError(t, err)
	flips, hard, total := p.CPU.Flips()
	if flips > 0 {
		t.Logf("step %d: %d of the CPU's %d ReLU and max-pool decisions were within rounding of a tie and went the other way; it took the GPU's", p.steps, flips, total)
	}
	require.Zero(t, hard, "step %d: ReLU or max-pool decisions that differ from the GPU's by more than a near-tie", p.steps)
	p.steps++
	require.InEpsilon(t, cl, gl, tol, "loss")
	require.InDelta(t, cc, gc, 1, "correct predictions (a near tie may flip)")
}

// Diffs compares the two states tensor by tensor.
func (p *Pair) Diffs(t testing.TB) []nn.Diff {
	t.Helper()
	gs, err := p.GPU.State()
	require.NoError(t, err)
	cs, err := p.CPU.State()
	require.NoError(t, err)
	require.Equal(t, cs.Step, gs.Step, "optimizer steps")
	return p.Model.Compare(gs, cs, p.Opt)
}

// Check fails t for every tensor not within tol and logs the worst.
func Check(t testing.TB, diffs []nn.Diff, tol float64) {
	t.Helper()
	worst, zeros := nn.Diff{}, 0
	for _, d := range diffs {
		if !d.Within(tol) {
			t.Errorf("%v, want < %g", d, tol)
		}
		if d.Zero {
			zeros++
		} else if d.RelErr >= worst.RelErr {
			worst = d
		}
	}
	t.Logf("%d tensors compared; worst %v; %d zero to rounding on both", len(diffs), worst, zeros)
}
