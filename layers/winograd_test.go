package layers

import (
	"math/rand/v2"
	"testing"
)

// TestConvWinograd: the Winograd transforms reproduce the direct
// convolution in float64 (to rounding), odd planes and bias included,
// and a wrong transform matrix is caught.
func TestConvWinograd(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []convCase{
		{"16x8x8", Conv2D{In: 16, Out: 8, Kernel: 3, Stride: 1, Pad: 1}, Shape{2, 16, 8, 8}},
		{"odd 5x7", Conv2D{In: 3, Out: 5, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{2, 3, 5, 7}},
		{"1x1 plane", Conv2D{In: 2, Out: 3, Kernel: 3, Stride: 1, Pad: 1}, Shape{1, 2, 1, 1}},
		{"2x9", Conv2D{In: 4, Out: 2, Kernel: 3, Stride: 1, Pad: 1}, Shape{3, 4, 2, 9}},
	} {
		c, in := tc.c, tc.in
		x, w := randSlice[float64](rng, in.Len()), randSlice[float64](rng, c.WeightLen())
		var b []float64
		if c.Bias {
			b = randSlice[float64](rng, c.Out)
		}
		o := c.OutShape(in)
		want, got := make([]float64, o.Len()), make([]float64, o.Len())
		ConvForward(c, in, x, w, b, want)
		ConvWinograd(c, in, x, w, b, got)
		if e := maxRelErr(got, want); e > 1e-12 || e != e {
			t.Errorf("%s: relative error %.2g", tc.name, e)
		}
	}
}

// TestWinogradTransforms checks the three transforms on known values:
// a centre-only filter makes U its value everywhere on the middle 2x2,
// and the output transform of a transformed 1 at one tap is that tap's
// response.
func TestWinogradTransforms(t *testing.T) {
	u := WinogradWeights([9]float64{0, 0, 0, 0, 1, 0, 0, 0, 0})
	want := [16]float64{0, 0, 0, 0, 0, .25, -.25, 0, 0, -.25, .25, 0, 0, 0, 0, 0}
	if u != want {
		t.Errorf("G g Gᵀ of the centre tap: %v, want %v", u, want)
	}
	// An all-ones patch: V = Bᵀ 1 B has one nonzero row and column pattern.
	var ones [16]float64
	for i := range ones {
		ones[i] = 1
	}
	v := WinogradInput(ones)
	if v != [16]float64{0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} {
		t.Errorf("Bᵀ 1 B = %v", v)
	}
	if y := WinogradOutput([16]float64{5: 1}); y != [4]float64{1, 1, 1, 1} {
		t.Errorf("Aᵀ e5 A = %v", y)
	}
}

// maxRelErr is max |a-b| / max(max |b|, tiny), NaN if any value is.
func maxRelErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		if a[i] != a[i] || b[i] != b[i] {
			return a[i] - b[i]
		}
		num = max(num, abs(a[i]-b[i]))
		den = max(den, abs(b[i]))
	}
	return num / max(den, 1e-300)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
