package gpu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/shaders"
)

// TestTexelBinding: a storage buffer bound as a uniform texel buffer
// ('t') reads back its values as vec4s: whole buffers (one of 4 bytes,
// whose vec4 is completed from the padding NewBuffer allocates), slices at
// an aligned offset; a misaligned offset is refused.
func TestTexelBinding(t *testing.T) {
	m := testgpu.Open(t)
	k, err := m.Kernel(gpu.KernelSpec{Name: "peak_copy_texel", Code: shaders.Code("peak_copy_texel"),
		Access: "tw", PushBytes: 4, Spec: []uint32{64}})
	require.NoError(t, err)
	src := make([]float32, 4*37)
	for i := range src {
		src[i] = float32(i) + 0.5
	}
	for _, c := range []struct {
		name     string
		off, len int // floats
	}{{"whole", 0, 4 * 37}, {"one float", 0, 1}, {"slice at 16 bytes", 4, 4 * 30}} {
		t.Run(c.name, func(t *testing.T) {
			var arg gpu.Arg
			if c.off == 0 {
				arg = testgpu.Upload(t, m, src[:c.len])
			} else {
				arg = testgpu.Upload(t, m, src).Slice(uint64(4*c.off), uint64(4*c.len))
			}
			vecs := (c.len + 3) / 4
			out := testgpu.Poisoned(t, m, 4*vecs)
			s, err := m.NewSequence(gpu.SequenceOptions{})
			require.NoError(t, err)
			defer s.Close()
			s.Dispatch(k, gpu.Groups{1, 1, 1}, []uint32{uint32(vecs)}, arg, out)
			require.NoError(t, s.Submit())
			got := testgpu.Download(t, out, 4*vecs)
			require.Equal(t, src[c.off:c.off+c.len], got[:c.len])
		})
	}
	in := testgpu.Upload(t, m, src)
	out := testgpu.Poisoned(t, m, 8)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	defer s.Close()
	s.Dispatch(k, gpu.Groups{1, 1, 1}, []uint32{2}, in.Slice(4, 32), out)
	require.ErrorContains(t, s.Submit(), "offset 4 is not a multiple of")
}
