package nn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/nntest"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/nn"
)

// sumBlock is a module of one's own with a small DAG: y = relu(bn(conv(x)) + x)
// built with the Builder's Add, and x + x.
type sumBlock struct{ C int }

func (s sumBlock) Build(b *nn.Builder, x nn.Value) nn.Value {
	y := b.Child("conv", nn.Conv2D{In: s.C, Out: s.C, Kernel: 3, Pad: 1}, x)
	y = b.Child("bn", nn.BatchNorm2D{C: s.C, Momentum: 0.2}, y)
	y = b.Add(y, x)
	return b.Add(y, y)
}

// everyLayer uses each layer kind and composition: convolutions with and
// without bias at odd shapes, batch norm fused (with ReLU, with a residual
// add, with both) and alone (on a vector too), max and average pooling,
// shortcuts A and B, a standalone ReLU, dropout, flatten and linear. (No
// bias feeds a batch norm here: its gradient is zero but for rounding,
// which AdamW scales to full-size steps of either sign on either path.)
func everyLayer(t *testing.T) *nn.Model {
	t.Helper()
	net := nn.Seq(
		nn.Conv2D{In: 3, Out: 6, Kernel: 3, Stride: 1, Pad: 1, Bias: true},
		nn.ReLU{},
		nn.MaxPool2D{Kernel: 3, Stride: 2, Pad: 1},
		nn.Residual{Body: nn.Seq(nn.Name("conv1", nn.Conv2D{In: 6, Out: 8, Kernel: 3, Stride: 2, Pad: 1}),
			nn.Name("bn1", nn.BatchNorm2D{C: 8}), nn.ReLU{},
			nn.Name("conv2", nn.Conv2D{In: 8, Out: 8, Kernel: 3, Pad: 1}), nn.Name("bn2", nn.BatchNorm2D{C: 8})),
			Shortcut: nn.ShortcutA{In: 6, Out: 8, Stride: 2}, ReLU: true},
		nn.Residual{Body: nn.Seq(nn.Name("conv1", nn.Conv2D{In: 8, Out: 10, Kernel: 3, Pad: 1}), nn.Name("bn1", nn.BatchNorm2D{C: 10})),
			Shortcut: nn.Seq(nn.Conv2D{In: 8, Out: 10, Kernel: 1}, nn.BatchNorm2D{C: 10})},
		sumBlock{C: 10},
		nn.AvgPool2D{Kernel: 2},
		nn.Conv2D{In: 10, Out: 12, Kernel: 5, Pad: 2, Bias: true},
		nn.GlobalAvgPool{},
		nn.Flatten{},
		nn.Dropout{P: 0.25},
		nn.Linear{In: 12, Out: 9},
		nn.ReLU{},
		nn.BatchNorm2D{C: 9},
		nn.Linear{In: 9, Out: 5})
	m, err := nn.New("every", net, nn.Shape{C: 3, H: 11, W: 13})
	require.NoError(t, err)
	return m
}

// TestEveryLayerGPUMatchesCPU trains the model above on the GPU and the
// CPU reference with each optimizer and compares every tensor, then the
// eval losses and the logits of Predict.
func TestEveryLayerGPUMatchesCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  nn.Optimizer
		lr   float64
	}{
		{"sgd", nn.SGD{Momentum: 0.9, WD: 5e-4}, 0.05},
		{"nesterov-nodecay", nn.SGD{Momentum: 0.9, Nesterov: true, WD: 5e-4, NoDecayNormBias: true}, 0.05},
		// eps 1e-6, not PyTorch's 1e-8: AdamW's first step is lr*g/(|g|+eps),
		// and a unit that is dead but for one sample has a gradient of
		// rounding size (here 4.3e-8 on the GPU, 2.6e-8 on the CPU) that eps
		// 1e-8 turns into steps of 0.81 and 0.72 lr.
		{"adamw", nn.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-6, WD: 0.01}, 1e-3},
		{"adamw-nodecay", nn.AdamW{Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WD: 0.1, NoDecayNormBias: true}, 1e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := everyLayer(t)
			p := nntest.NewPair(t, m, tc.opt, 7, 3)
			for range 3 {
				p.Step(t, tc.lr, 1e-4)
				nntest.Check(t, p.Diffs(t), 1e-4)
			}
			x, y := nntest.Batch(rngFor(9), m.Input, 17, m.Classes)
			gl, gc, err := p.GPU.Eval(x, y)
			require.NoError(t, err)
			cl, cc, err := p.CPU.Eval(x, y)
			require.NoError(t, err)
			require.InEpsilon(t, cl, gl, 1e-4, "eval loss")
			require.Equal(t, cc, gc, "eval correct")
			gz, err := p.GPU.Predict(x)
			require.NoError(t, err)
			cz, err := p.CPU.Predict(x)
			require.NoError(t, err)
			require.Len(t, gz, 17*m.Classes)
			require.Less(t, relErr(gz, cz), 1e-4, "logits")
		})
	}
}

// TestExampleGPUMatchesCPU: the Example's network, one step, every tensor
// within 1e-4 (its dropout masks are the same on both paths).
func TestExampleGPUMatchesCPU(t *testing.T) {
	m, err := nn.New("small-cnn", smallCNN(), nn.Shape{C: 3, H: 32, W: 32})
	require.NoError(t, err)
	p := nntest.NewPair(t, m, nn.SGD{Momentum: 0.9, WD: 5e-4}, 4, 7)
	p.Step(t, 0.02, 1e-4)
	nntest.Check(t, p.Diffs(t), 1e-4)
}

// deadBranch computes a convolution whose result the logits never use:
// it takes no gradient, and the rest trains as without it.
type deadBranch struct{}

func (deadBranch) Build(b *nn.Builder, x nn.Value) nn.Value {
	y := b.Child("conv1", nn.Conv2D{In: 3, Out: 4, Kernel: 3, Pad: 1}, x)
	b.Child("unused", nn.Conv2D{In: 4, Out: 4, Kernel: 3, Pad: 1}, y)
	return b.Child("", nn.ReLU{}, y)
}

func TestUnusedBranch(t *testing.T) {
	m, err := nn.New("dead", nn.Seq(deadBranch{}, nn.GlobalAvgPool{}, nn.Flatten{}, nn.Linear{In: 4, Out: 3}), nn.Shape{C: 3, H: 8, W: 8})
	require.NoError(t, err)
	p := nntest.NewPair(t, m, nn.SGD{Momentum: 0.9}, 3, 1)
	for range 2 {
		p.Step(t, 0.1, 1e-4)
	}
	nntest.Check(t, p.Diffs(t), 1e-4)
	st, err := p.GPU.State()
	require.NoError(t, err)
	for _, v := range m.Param("0.unused.weight").Of(st.Grads) {
		require.Zero(t, v, "the unused convolution's gradient")
	}
}

// TestRecordErrors: a layer the device cannot take, or bad options, are
// errors from NewGPU, with nothing left allocated.
func TestRecordErrors(t *testing.T) {
	mgr := testgpu.Open(t)
	b0, s0, _, bytes0 := mgr.Live()
	m, err := nn.New("small-cnn", smallCNN(), cifar)
	require.NoError(t, err)
	_, err = nn.NewGPU(mgr, m, nn.SGD{}, 2, nn.Options{Conv: 99})
	require.ErrorContains(t, err, "unknown conv version 99")
	if mgr.Info().Type == "cpu" {
		// 9x9 over 650 channels: past lavapipe's loop limit in the naive kernels.
		big, err := nn.New("big", nn.Seq(nn.Conv2D{In: 3, Out: 650, Kernel: 9, Pad: 4}, nn.Conv2D{In: 650, Out: 2, Kernel: 9, Pad: 4},
			nn.GlobalAvgPool{}, nn.Flatten{}, nn.Linear{In: 2, Out: 2}), nn.Shape{C: 3, H: 9, W: 9})
		require.NoError(t, err)
		_, err = nn.NewGPU(mgr, big, nn.SGD{}, 1, nn.Options{})
		require.ErrorContains(t, err, "past lavapipe's")
	}
	b1, s1, _, bytes1 := mgr.Live()
	require.Equal(t, []any{b0, s0, bytes0}, []any{b1, s1, bytes1}, "nothing left allocated")
}
