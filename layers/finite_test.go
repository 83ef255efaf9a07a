package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

// TestFiniteGPU: the check flags one NaN or infinity anywhere in the
// range (first, last, middle), not the largest finite floats nor values
// past the range, and clears a flag left set by an earlier step; over two
// spans, a bad value in either.
func TestFiniteGPU(t *testing.T) {
	m := testgpu.Open(t)
	f, err := NewFiniteGPU(m)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(43, 44))
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, n := range []int{1, 7, 256, 1000, 300001} {
		for _, at := range []int{-1, 0, n / 2, n - 1} {
			for _, v := range bad {
				if at < 0 && v != bad[0] {
					continue // one all-finite case a size
				}
				t.Run(fmt.Sprintf("n=%d/at=%d/%v", n, at, v), func(t *testing.T) {
					x := testgpu.Rand(rng, n+5)
					x[n/3] = math.MaxFloat32
					x[n-1-n/4] = -math.MaxFloat32
					x[n+2] = float32(math.NaN()) // past the range: not read
					if at >= 0 {
						x[at] = v
					}
					flag := testgpu.Upload(t, m, []float32{7, 7})
					submit(t, m, func(s *gpu.Sequence) { f.Record(s, gpu.Head(flag, 4), Span{testgpu.Upload(t, m, x), n}) })
					var got [2]uint32
					for i, w := range testgpu.Download(t, flag, 2) {
						got[i] = math.Float32bits(w)
					}
					want := uint32(0)
					if !AllFinite(x[:n]) {
						want = 1
					}
					require.Equal(t, want, got[0], "flag")
					require.Equal(t, math.Float32bits(7), got[1], "the word after the flag")

					// The same values as the second of two spans, after a finite one.
					ok := testgpu.Upload(t, m, testgpu.Rand(rng, 9))
					submit(t, m, func(s *gpu.Sequence) {
						f.Record(s, gpu.Head(flag, 4), Span{ok, 9}, Span{testgpu.Upload(t, m, x), n})
					})
					require.Equal(t, want, math.Float32bits(testgpu.Download(t, flag, 1)[0]), "flag, second span")
				})
			}
		}
	}
}
