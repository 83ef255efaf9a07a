package nn_test

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/nntest"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/nn"
)

var cifar = nn.Shape{C: 3, H: 32, W: 32}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		net  nn.Module
		in   nn.Shape
		want string
	}{
		{"channels", nn.Seq(nn.Conv2D{In: 4, Out: 8, Kernel: 3}, nn.Flatten{}, nn.Linear{In: 1, Out: 2}), cifar, "0: Conv2D takes 4 input channels, its input is 3x32x32"},
		{"kernel too big", nn.Seq(nn.Conv2D{In: 3, Out: 8, Kernel: 40}), cifar, "leaves no output"},
		{"kernel over the input", nn.Seq(nn.Conv2D{In: 3, Out: 8, Kernel: 3, Stride: 2}), nn.Shape{C: 3, H: 2, W: 2}, "leaves no output"},
		{"not a vector", nn.Seq(nn.Conv2D{In: 3, Out: 8, Kernel: 3}), cifar, "must be a vector of logits"},
		{"linear size", nn.Seq(nn.Flatten{}, nn.Linear{In: 10, Out: 2}), cifar, "Linear takes 10 inputs, its input is 3072"},
		{"batch norm", nn.Seq(nn.BatchNorm2D{C: 5}), cifar, "BatchNorm2D of 5 channels"},
		{"momentum", nn.Seq(nn.BatchNorm2D{C: 3, Momentum: 2}), cifar, "momentum 2"},
		{"pool", nn.Seq(nn.MaxPool2D{Kernel: 2, Pad: 2}), cifar, "padding 2"},
		{"pool too big", nn.Seq(nn.AvgPool2D{Kernel: 64}), cifar, "does not fit"},
		{"dropout", nn.Seq(nn.Dropout{P: 1}), cifar, "dropout probability 1"},
		{"shortcut", nn.Seq(nn.ShortcutA{In: 3, Out: 2, Stride: 1}), cifar, "Out >= In"},
		{"residual shapes", nn.Residual{Body: nn.Conv2D{In: 3, Out: 4, Kernel: 1}}, cifar, "adding 4x32x32 and 3x32x32"},
		{"same name", nn.Seq(nn.Name("a", nn.Conv2D{In: 3, Out: 3, Kernel: 1}), nn.Name("a", nn.Conv2D{In: 3, Out: 3, Kernel: 1})), cifar, "two tensors are named a.weight"},
		{"nil", nn.Seq(nil), cifar, "nil"},
		{"no parameters", nn.Seq(nn.GlobalAvgPool{}, nn.Flatten{}), cifar, "no parameters"},
		{"input", nn.Seq(nn.Flatten{}), nn.Shape{C: 0, H: 1, W: 1}, "not positive"},
	} {
		_, err := nn.New(tc.name, tc.net, tc.in)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}

// TestNames: parameter names are module paths (PyTorch's state_dict
// keys), Sequential children numbered unless named, a Residual's body in
// the block's namespace and its shortcut under "shortcut".
func TestNames(t *testing.T) {
	net := nn.Seq(
		nn.Name("stem", nn.Seq(nn.Conv2D{In: 3, Out: 4, Kernel: 3, Pad: 1}, nn.BatchNorm2D{C: 4})),
		nn.Residual{Body: nn.Seq(nn.Name("conv1", nn.Conv2D{In: 4, Out: 8, Kernel: 3, Stride: 2, Pad: 1}), nn.Name("bn1", nn.BatchNorm2D{C: 8})),
			Shortcut: nn.Seq(nn.Conv2D{In: 4, Out: 8, Kernel: 1, Stride: 2}, nn.BatchNorm2D{C: 8})},
		nn.GlobalAvgPool{}, nn.Flatten{}, nn.Name("fc", nn.Linear{In: 8, Out: 3}))
	m, err := nn.New("names", net, cifar)
	require.NoError(t, err)
	var names []string
	for _, p := range m.Params {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"stem.0.weight", "stem.1.weight", "stem.1.bias", "1.conv1.weight", "1.bn1.weight", "1.bn1.bias",
		"1.shortcut.0.weight", "1.shortcut.1.weight", "1.shortcut.1.bias", "fc.weight", "fc.bias"}, names)
	require.Equal(t, "1.shortcut.1.running_var", m.Buffers[5].Name)
	require.Equal(t, 3, m.Classes)
	// Weights (with weight decay) come first in flat storage.
	require.Equal(t, 0, m.Param("stem.0.weight").Offset)
	require.Less(t, m.Param("fc.weight").Offset, m.DecayEnd)
	require.GreaterOrEqual(t, m.Param("stem.1.weight").Offset, m.DecayEnd)
	s := m.Summary()
	require.Contains(t, s, "1.shortcut.0")
	require.Contains(t, s, "Add*")
	require.Contains(t, s, "names: 495 parameters")
}

func TestCheckpointRoundTrip(t *testing.T) {
	m, err := nn.New("small-cnn", smallCNN(), cifar)
	require.NoError(t, err)
	st := m.Init(3)
	st.Step = 12
	opt := nn.DefaultAdamW
	for range opt.Slots() {
		s := make([]float32, m.NParam)
		for i := range s {
			s[i] = float32(i % 7)
		}
		st.Slots = append(st.Slots, s)
	}
	m.Meta["classes"] = "10"
	f, err := m.Checkpoint(st, opt, map[string]string{"seed": "3", "arch": "overridden?"})
	require.NoError(t, err)
	require.Equal(t, "small-cnn", f.Metadata["arch"])
	require.Equal(t, "12", f.Metadata["optimizer_step"])
	require.Equal(t, "3", f.Metadata["seed"])
	tensor, ok := f.Get("optimizer.exp_avg_sq.features.1.0.weight")
	require.True(t, ok)
	require.Equal(t, []int{32, 16, 3, 3}, tensor.Shape)

	back, err := m.Restore(f, opt)
	require.NoError(t, err)
	require.Equal(t, st.Params, back.Params)
	require.Equal(t, st.Buffers, back.Buffers)
	require.Equal(t, 12, back.Step)
	for _, d := range m.Compare(back, st, opt) {
		require.Zero(t, d.RelErr, d.Name) // gaps aside, every tensor comes back
	}

	// Without the optimizer's tensors: parameters only; the optimizer
	// starts afresh.
	sgd, err := m.Restore(f, nn.SGD{Momentum: 0.9})
	require.NoError(t, err)
	require.Nil(t, sgd.Slots)
	require.Zero(t, sgd.Step)
	_, err = m.Checkpoint(&nn.State{Params: st.Params[:5]}, opt, nil)
	require.ErrorContains(t, err, "state of 5 parameter")
	_, err = m.Checkpoint(nil, opt, nil)
	require.ErrorContains(t, err, "no state")

	other, err := nn.New("other", smallCNN(), cifar)
	require.NoError(t, err)
	_, err = other.Restore(f, opt)
	require.ErrorContains(t, err, "checkpoint is of small-cnn, the model is other")
	m.Meta["classes"] = "100"
	_, err = m.Restore(f, opt)
	require.ErrorContains(t, err, "checkpoint has classes 10, the model 100")
	m.Meta["classes"] = "10"
	f.Tensors[0].Shape = []int{16, 3, 9}
	_, err = m.Restore(f, opt)
	require.ErrorContains(t, err, "features.0.0.weight has shape [16 3 9], the model needs [16 3 3 3]")
	f.Tensors = f.Tensors[1:]
	_, err = m.Restore(f, opt)
	require.ErrorContains(t, err, "no tensor features.0.0.weight")
}

// TestCompareCatches shows that the tensor-by-tensor comparison catches
// what one flat comparison misses: fc.bias updated with a 1% error, and
// batch norms run with momentum 0.11 instead of 0.1.
func TestCompareCatches(t *testing.T) {
	m, err := nn.New("small-cnn", smallCNN(), cifar)
	require.NoError(t, err)
	opt := nn.SGD{Momentum: 0.9}
	p := nntest.NewPair(t, m, opt, 4, 7)
	p.Step(t, 0.05, 1e-4)
	gs, err := p.GPU.State()
	require.NoError(t, err)
	cs, err := p.CPU.State()
	require.NoError(t, err)
	fcb := m.Param("fc.bias")
	for i := range fcb.Of(gs.Params) {
		fcb.Of(gs.Params)[i] += 0.01 * (fcb.Of(gs.Params)[i] - fcb.Of(cs.Params)[i] + 0.01*float32(i%3-1))
	}
	require.Less(t, relErr(gs.Params, cs.Params), 1e-4, "the flat comparison misses it")
	failed := failing(m.Compare(gs, cs, opt), 1e-4)
	require.Equal(t, []string{"fc.bias"}, failed, "the comparison by tensor names it")

	// Batch-norm momentum 0.11 on the GPU, 0.1 on the CPU.
	bn11 := nn.Seq(nn.Conv2D{In: 3, Out: 8, Kernel: 3, Pad: 1}, nn.BatchNorm2D{C: 8, Momentum: 0.11}, nn.ReLU{},
		nn.GlobalAvgPool{}, nn.Flatten{}, nn.Linear{In: 8, Out: 4})
	bn10 := nn.Seq(nn.Conv2D{In: 3, Out: 8, Kernel: 3, Pad: 1}, nn.BatchNorm2D{C: 8}, nn.ReLU{},
		nn.GlobalAvgPool{}, nn.Flatten{}, nn.Linear{In: 8, Out: 4})
	gm, err := nn.New("bn", bn11, cifar)
	require.NoError(t, err)
	cm, err := nn.New("bn", bn10, cifar)
	require.NoError(t, err)
	g, err := nn.NewGPU(testgpu.Open(t), gm, opt, 4, nn.Options{})
	require.NoError(t, err)
	defer g.Close()
	c, err := nn.NewCPU(cm, opt, 4, nn.Options{})
	require.NoError(t, err)
	require.NoError(t, g.SetState(gm.Init(1)))
	require.NoError(t, c.SetState(cm.Init(1)))
	x, y := nntest.Batch(rngFor(1), cifar, 4, 4)
	_, _, err = g.Step(x, y, 0.05)
	require.NoError(t, err)
	_, _, err = c.Step(x, y, 0.05)
	require.NoError(t, err)
	gs, err = g.State()
	require.NoError(t, err)
	cs, err = c.State()
	require.NoError(t, err)
	require.Equal(t, []string{"1.running_mean", "1.running_var"}, failing(cm.Compare(gs, cs, opt), 1e-4))
}

func failing(diffs []nn.Diff, tol float64) []string {
	var out []string
	for _, d := range diffs {
		if !d.Within(tol) {
			out = append(out, d.Name)
		}
	}
	return out
}

// TestExecutorErrors: bad batches, labels and states are refused with
// their sizes, on both executors.
func TestExecutorErrors(t *testing.T) {
	m, err := nn.New("small-cnn", smallCNN(), cifar)
	require.NoError(t, err)
	p := nntest.NewPair(t, m, nn.SGD{}, 2, 1)
	x, y := nntest.Batch(rngFor(1), cifar, 2, 10)
	for _, e := range []nn.Executor{p.GPU, p.CPU} {
		_, _, err := e.Step(x[:100], y, 0.1)
		require.ErrorContains(t, err, "a batch of 100 floats and 2 labels; small-cnn takes 2 images of 3x32x32")
		_, _, err = e.Step(x, []int32{0, 10}, 0.1)
		require.ErrorContains(t, err, "label 10 of image 1 is outside [0, 10)")
		_, _, err = e.Eval(x, []int32{-1, 0})
		require.ErrorContains(t, err, "label -1")
		_, err = e.Predict(x[:7])
		require.ErrorContains(t, err, "not whole images")
		require.ErrorContains(t, e.SetState(&nn.State{Params: make([]float32, 3)}), "state of 3 parameter")
		_, _, err = e.Step(x, y, 0.1)
		require.NoError(t, err)
	}
	_, err = nn.NewCPU(m, nn.SGD{Momentum: 1}, 2, nn.Options{})
	require.ErrorContains(t, err, "momentum 1")
	_, err = nn.NewCPU(m, nn.SGD{Nesterov: true}, 2, nn.Options{})
	require.ErrorContains(t, err, "Nesterov")
	_, err = nn.NewCPU(m, nn.AdamW{Beta1: 0.9, Beta2: 1, Eps: 1e-8}, 2, nn.Options{})
	require.ErrorContains(t, err, "betas")
	_, err = nn.NewCPU(m, nn.SGD{}, 0, nn.Options{})
	require.ErrorContains(t, err, "batch size 0")
	require.NoError(t, p.GPU.Close())
	_, _, err = p.GPU.Step(x, y, 0.1)
	require.ErrorContains(t, err, "closed")
	t.Setenv("VKNN_CONV", "v9")
	_, err = nn.NewGPU(testgpu.Open(t), m, nn.SGD{}, 2, nn.Options{})
	require.ErrorContains(t, err, `VKNN_CONV="v9": want v1, v2, v3 or v4`)
}

// rss is this process's resident memory in bytes (Linux).
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// TestNoLeaks runs 1,000 training steps and evaluations of a small model
// (with a last batch of another size): the live Vulkan objects and the
// host memory stay flat, evaluation records one graph once, Close returns
// everything, and the validation layer (on, in testgpu.Open) reports
// nothing, leaks at shutdown included.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 steps; run without -short")
	}
	mgr := testgpu.Open(t)
	// A staged transfer first: on devices the host cannot map
	// (VKNN_STAGED=1) the manager keeps one staging buffer from its first
	// transfer to its Close; it is not the executor's to return.
	warm := testgpu.Upload(t, mgr, []float32{1})
	testgpu.Download(t, warm, 1)
	require.NoError(t, warm.Free())
	b00, s00, _, bytes00 := mgr.Live()
	m, err := nn.New("small-cnn", smallCNN(), cifar)
	require.NoError(t, err)
	e, err := nn.NewGPU(mgr, m, nn.SGD{Momentum: 0.9, WD: 1e-4}, 2, nn.Options{})
	require.NoError(t, err)
	require.NoError(t, e.SetState(m.Init(1)))
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := nntest.Batch(rng, cifar, 3, 10)
	step := func(n int) {
		for range n {
			_, _, err := e.Step(x[:2*cifar.Len()], y[:2], 0.01)
			require.NoError(t, err)
		}
		_, _, err := e.Eval(x, y) // batches of 2 and 1
		require.NoError(t, err)
	}
	step(100)
	runtime.GC()
	b0, s0, k0, bytes0 := mgr.Live()
	r0 := rss(t)
	step(1000)
	runtime.GC()
	b1, s1, k1, bytes1 := mgr.Live()
	r1 := rss(t)
	t.Logf("after 100 steps: %d buffers, %d sequences, %d kernels, %d bytes of device memory, RSS %.1f MiB",
		b0, s0, k0, bytes0, float64(r0)/(1<<20))
	t.Logf("after 1100 steps: %d buffers, %d sequences, %d kernels, %d bytes of device memory, RSS %.1f MiB",
		b1, s1, k1, bytes1, float64(r1)/(1<<20))
	require.Equal(t, []any{b0, s0, k0, bytes0}, []any{b1, s1, k1, bytes1}, "live objects")
	require.Equal(t, s00+2, s0, "one training and one eval sequence (the last batch padded)")
	require.Less(t, r1-r0, int64(16<<20), "host memory grew by %.1f MiB", float64(r1-r0)/(1<<20))
	require.NoError(t, e.Close())
	b2, s2, _, bytes2 := mgr.Live()
	require.Equal(t, []any{b00, s00, bytes00}, []any{b2, s2, bytes2}, "Close returns every buffer and sequence")
}

// TestNonFiniteStateIsNaNLoss: a step that leaves the state NaN or
// infinite reports a NaN loss on both executors, though the loss kernel
// saw nothing: a NaN weight of a channel behind a ReLU (the GPU's max may
// turn NaN into 0), a NaN running variance (training uses the batch's),
// an infinite AdamW second moment (the weight stays finite, frozen).
func TestNonFiniteStateIsNaNLoss(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		opt  nn.Optimizer
		set  func(m *nn.Model, st *nn.State)
	}{
		{"weight", nn.SGD{}, func(m *nn.Model, st *nn.State) {
			w := m.Param("conv.weight").Of(st.Params)
			for i := range 27 { // all of output channel 0
				w[i] = nan
			}
		}},
		{"running variance", nn.SGD{}, func(m *nn.Model, st *nn.State) { m.Param("bn.running_var").Of(st.Buffers)[1] = nan }},
		{"adamw second moment", nn.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, func(m *nn.Model, st *nn.State) {
			m.Param("fc.weight").Of(st.Slots[1])[3] = inf
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := nn.New("nan", nn.Seq(nn.Name("conv", nn.Conv2D{In: 3, Out: 4, Kernel: 3, Pad: 1}), nn.Name("bn", nn.BatchNorm2D{C: 4}),
				nn.ReLU{}, nn.GlobalAvgPool{}, nn.Flatten{}, nn.Name("fc", nn.Linear{In: 4, Out: 10})), cifar)
			require.NoError(t, err)
			p := nntest.NewPair(t, m, tc.opt, 2, 1)
			x, y := nntest.Batch(rngFor(2), cifar, 2, 10)
			for _, e := range []nn.Executor{p.GPU, p.CPU} {
				loss, _, err := e.Step(x, y, 0.1)
				require.NoError(t, err)
				require.False(t, math.IsNaN(loss) || math.IsInf(loss, 0), "loss %v before", loss)
				st, err := e.State()
				require.NoError(t, err)
				tc.set(m, st)
				require.NoError(t, e.SetState(st))
				loss, _, err = e.Step(x, y, 0.1)
				require.NoError(t, err)
				require.True(t, math.IsNaN(loss), "loss %v after", loss)
			}
		})
	}
}
