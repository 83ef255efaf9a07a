package gpu_test

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/shaders"
)

// TestCallsUnderGC builds 40 pipelines with specialization constants and
// submits each a few times while the collector runs without pause. With
// the binding's vkCreateComputePipelines, which reads C memory a finalizer
// may free mid-call, it died 5 runs of 5 (std::bad_alloc, SIGSEGV); with
// direct.go it passes. (It did not catch the binding's vkQueueSubmit alone
// in 4 runs of 2,400 submits: that one showed under GOGC=1 in the ResNet
// tests.) Results are checked so that a corrupted specialization cannot
// pass.
func TestCallsUnderGC(t *testing.T) {
	m := testgpu.Open(t)
	// The collector runs from here on: device opening (instance, layers,
	// device) still takes the binding's path and is not covered.
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	const n = 1000
	y := testgpu.Upload(t, m, make([]float32, n))
	for i := range 40 {
		// A new local size each time: a new pipeline, built under GC.
		k, err := m.Kernel(gpu.KernelSpec{Name: "fill", Code: shaders.Code("fill"), Access: "w", PushBytes: 8,
			Spec: []uint32{uint32(32 + 8*i)}})
		require.NoError(t, err)
		s, err := m.NewSequence(gpu.SequenceOptions{})
		require.NoError(t, err)
		v := float32(i) + 0.5
		s.Dispatch(k, gpu.Groups{gpu.Grid(n, 32+8*i), 1, 1}, []uint32{n, math.Float32bits(v)}, y)
		for range 20 {
			require.NoError(t, s.Submit())
		}
		got := testgpu.Download(t, y, n)
		for j, g := range got {
			require.Equal(t, v, g, "element %d after kernel %d", j, i)
		}
		s.Close()
	}
}
