package resnet

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/layers"
)

// rss is this process's resident memory in bytes (Linux).
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// TestNoLeaks runs 1,000 training steps of a small model: the live Vulkan
// objects and the host memory stay flat, and the validation layer (on, in
// testgpu.Open) reports nothing, leaks at shutdown included.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 steps; run without -short")
	}
	m := testgpu.Open(t)
	model, err := New(Config{N: 1, Shortcut: 'A', Classes: 10})
	require.NoError(t, err)
	tr, err := NewTrainer(m, model, 2, TrainerOptions{})
	require.NoError(t, err)
	p, s := model.Init(1)
	require.NoError(t, tr.SetWeights(p, s))
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randomBatch(rng, 2, 10)
	opt := layers.SGD{LR: 0.01, Momentum: 0.9, WD: 1e-4}
	step := func(n int) {
		for range n {
			_, _, err := tr.Step(x, y, opt)
			require.NoError(t, err)
		}
		_, _, err := tr.Eval(x, y)
		require.NoError(t, err)
	}
	step(100)
	runtime.GC()
	b0, s0, k0, bytes0 := m.Live()
	r0 := rss(t)
	step(1000)
	runtime.GC()
	b1, s1, k1, bytes1 := m.Live()
	r1 := rss(t)
	t.Logf("after 100 steps: %d buffers, %d sequences, %d kernels, %d bytes of device memory, RSS %.1f MiB",
		b0, s0, k0, bytes0, float64(r0)/(1<<20))
	t.Logf("after 1100 steps: %d buffers, %d sequences, %d kernels, %d bytes of device memory, RSS %.1f MiB",
		b1, s1, k1, bytes1, float64(r1)/(1<<20))
	require.Equal(t, []any{b0, s0, k0, bytes0}, []any{b1, s1, k1, bytes1}, "live objects")
	require.Less(t, r1-r0, int64(16<<20), "host memory grew by %.1f MiB", float64(r1-r0)/(1<<20))
}
