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
	// 1<<20+300: past 4096 groups of 256, so the grid-stride loop goes round.
	for _, n := range []int{1, 7, 256, 1000, 300001, 1<<20 + 300} {
		for _, at := range []int{-1, 0, n / 2, n - 1} {
			for _, v := range bad {
				if at < 0 && !math.IsNaN(float64(v)) {
					continue // one all-finite case a size
				}
				name := fmt.Sprintf("n=%d/at=%d/%v", n, at, v)
				if at < 0 {
					name = fmt.Sprintf("n=%d/all finite", n)
				}
				t.Run(name, func(t *testing.T) {
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

					// The same values as the first and as the second of two spans.
					ok, xb := testgpu.Upload(t, m, testgpu.Rand(rng, 9)), testgpu.Upload(t, m, x)
					for i, spans := range [][]Span{{{ok, 9}, {xb, n}}, {{xb, n}, {ok, 9}}} {
						submit(t, m, func(s *gpu.Sequence) { f.Record(s, gpu.Head(flag, 4), spans...) })
						require.Equal(t, want, math.Float32bits(testgpu.Download(t, flag, 1)[0]), "flag, span %d of 2", 2-i)
					}
				})
			}
		}
	}
}
