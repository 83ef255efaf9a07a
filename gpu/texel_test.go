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
	// An offset off the device's texel alignment is refused (where the
	// alignment is above 4 bytes).
	in := testgpu.Upload(t, m, src)
	for _, c := range []struct {
		name      string
		off, size uint64
		want      string
	}{
		{"misaligned", m.Info().MinTexelOffset / 2, 32, "texel-buffer offset"},
	} {
		if c.off%4 != 0 || (c.name == "misaligned" && c.off == 0) {
			t.Logf("%s: not applicable, texel alignment %d", c.name, m.Info().MinTexelOffset)
			continue
		}
		out := testgpu.Poisoned(t, m, 8)
		s, err := m.NewSequence(gpu.SequenceOptions{})
		require.NoError(t, err)
		s.Dispatch(k, gpu.Groups{1, 1, 1}, []uint32{2}, gpu.Slice{Buf: in, Off: c.off, Size: c.size}, out)
		require.ErrorContains(t, s.Submit(), c.want, c.name)
		s.Close()
	}
}
