package resnet

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/layers"
	"github.com/vknn/vknn/perf"
)

// randomBatch makes a learnable batch: each image is its class's smooth
// pattern plus noise, roughly normalised.
func randomBatch(rng *rand.Rand, n, classes int) ([]float32, []int32) {
	x := make([]float32, n*3072)
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(rng.IntN(classes))
		k := float64(y[i]+1) / float64(classes)
		for c := range 3 {
			for h := range 32 {
				for w := range 32 {
					v := math.Sin(k*float64(h+3*c)) * math.Cos(k*float64(w)*0.7)
					x[i*3072+(c*32+h)*32+w] = float32(v + 0.3*(2*rng.Float64()-1))
				}
			}
		}
	}
	return x, y
}

// TestGPUMatchesCPU trains 5 steps on the GPU and on the CPU reference
// from the same weights and batches with the paper's recipe (lr 0.1,
// momentum 0.9, weight decay 1e-4); the weights, batch-norm state and
// momentum must agree. After one step the gradients agree to about 1e-6.
// The two paths add in different orders, and training at lr 0.1 from a
// fresh initialisation amplifies those roundings (about x5 a step, after
// the odd ReLU whose input is within rounding of 0 flips), so after 5
// steps the weights and batch-norm state are held to 1e-3, the momentum
// (a sum of raw gradients, far more sensitive) to 5e-2, the losses to 1e-2.
func TestGPUMatchesCPU(t *testing.T) {
	m := testgpu.Open(t)
	for _, cfg := range []Config{
		{N: 3, Shortcut: 'A', Classes: 10},
		{N: 1, Shortcut: 'B', Classes: 10},
		{N: 1, Plain: true, Classes: 7},
	} {
		t.Run(cfg.Name()+string(cfg.Shortcut), func(t *testing.T) {
			model, err := New(cfg)
			require.NoError(t, err)
			const batch = 32
			params, state := model.Init(42)
			gt, err := NewTrainer(m, model, batch, TrainerOptions{})
			require.NoError(t, err)
			require.NoError(t, gt.SetWeights(params, state))
			ct, err := NewCPUTrainer(model, batch)
			require.NoError(t, err)
			copy(ct.Params, params)
			copy(ct.BNState, state)
			rng := rand.New(rand.NewPCG(5, 5))
			// Eval mode agrees closely from the same weights and statistics
			// (after training the chaos below makes losses drift apart).
			x, y := randomBatch(rand.New(rand.NewPCG(6, 6)), 11, cfg.Classes)
			gl, gc, err := gt.Eval(x, y)
			require.NoError(t, err)
			cl, cc, err := ct.Eval(x, y)
			require.NoError(t, err)
			require.InEpsilon(t, cl, gl, 1e-4, "eval loss")
			require.Equal(t, cc, gc, "eval correct")
			opt := layers.SGD{LR: 0.1, Momentum: 0.9, WD: 1e-4}
			for step := range 5 {
				x, y := randomBatch(rng, batch, cfg.Classes)
				gl, gc, err := gt.Step(x, y, opt)
				require.NoError(t, err)
				cl, cc, err := ct.Step(x, y, opt)
				require.NoError(t, err)
				require.InEpsilon(t, cl, gl, 1e-2, "loss at step %d", step)
				require.InDelta(t, cc, gc, 1, "correct at step %d (a near-tie may flip)", step)
				if step == 0 {
					// After one step the momentum is the gradient (plus weight
					// decay). It agrees to about 2e-6, unless a ReLU whose
					// input is within rounding of 0 flips: batch norm then
					// spreads that one element's gradient over its channel,
					// about 1/(N*H*W) of it (6e-4 for resnet8B here).
					_, _, gm, err := gt.State()
					require.NoError(t, err)
					e := perf.RelErr(gm, ct.Mom)
					t.Logf("gradient after one step: relative error %.2g", e)
					require.Less(t, e, 1e-3, "gradient after one step")
				}
			}
			gp, gs, gm, err := gt.State()
			require.NoError(t, err)
			for _, tc := range []struct {
				name      string
				got, want []float32
				tol       float64
			}{{"weights", gp, ct.Params, 1e-3}, {"bn state", gs, ct.BNState, 1e-3}, {"momentum", gm, ct.Mom, 5e-2}} {
				e := perf.RelErr(tc.got, tc.want)
				t.Logf("%s: relative error %.2g after 5 steps", tc.name, e)
				require.Less(t, e, tc.tol, tc.name)
			}
		})
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	m, err := New(Config{N: 3, Shortcut: 'A', Classes: 10})
	require.NoError(t, err)
	p, s := m.Init(1)
	mom := make([]float32, m.NParam)
	for i := range mom {
		mom[i] = float32(i % 7)
	}
	f := m.Checkpoint(p, s, mom, map[string]string{"step": "12"})
	require.Equal(t, "resnet20", f.Metadata["arch"])
	conv, ok := f.Get("layer2.0.conv1.weight")
	require.True(t, ok)
	require.Equal(t, []int{32, 16, 3, 3}, conv.Shape)
	p2, s2, m2, err := m.Restore(f)
	require.NoError(t, err)
	require.Equal(t, p, p2)
	require.Equal(t, s, s2)
	for _, tt := range m.Params { // gaps aside, the momentum comes back
		require.Equal(t, mom[tt.Offset:tt.Offset+tt.Len], m2[tt.Offset:tt.Offset+tt.Len])
	}

	other, _ := New(Config{N: 5, Shortcut: 'A', Classes: 10})
	_, _, _, err = other.Restore(f)
	require.ErrorContains(t, err, "checkpoint is of resnet20, the model is resnet32")
	b, _ := New(Config{N: 3, Shortcut: 'B', Classes: 10})
	_, _, _, err = b.Restore(f)
	require.ErrorContains(t, err, "shortcut option A")
	f.Metadata = nil
	f.Tensors[0].Shape = []int{16, 3, 3, 1}
	_, _, _, err = m.Restore(f)
	require.ErrorContains(t, err, "conv1.weight has shape [16 3 3 1]")
}
