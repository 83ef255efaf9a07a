package layers

import (
	"math/rand/v2"
	"testing"
)

// winogradMatrices are Bᵀ, G and Aᵀ of F(m x m, 3 x 3) for m = 2 and 4
// (Lavin and Gray 2015), for the accuracy comparison below.
var winogradMatrices = map[int]struct{ bt, g, at [][]float64 }{
	2: {
		bt: [][]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		g:  [][]float64{{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}},
		at: [][]float64{{1, 1, 1, 0}, {0, 1, -1, -1}},
	},
	4: {
		bt: [][]float64{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
		g: [][]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
			{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}},
		at: [][]float64{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}},
	},
}

// mul is the matrix product a b.
func mul[T Float](a, b [][]T) [][]T {
	out := make([][]T, len(a))
	for i := range a {
		out[i] = make([]T, len(b[0]))
		for j := range b[0] {
			var s T
			for k := range b {
				s += a[i][k] * b[k][j]
			}
			out[i][j] = s
		}
	}
	return out
}

func transpose[T Float](a [][]T) [][]T {
	out := make([][]T, len(a[0]))
	for j := range out {
		out[j] = make([]T, len(a))
		for i := range a {
			out[j][i] = a[i][j]
		}
	}
	return out
}

func conv64[T Float](a [][]float64) [][]T {
	out := make([][]T, len(a))
	for i := range a {
		out[i] = make([]T, len(a[i]))
		for j := range a[i] {
			out[i][j] = T(a[i][j])
		}
	}
	return out
}

// convWinogradM is a 3x3, stride-1, padding-1 convolution by F(m x m,
// 3 x 3) computed in T from the matrices (H and W multiples of m).
func convWinogradM[T Float](mt int, c Conv2D, in Shape, x, w []T) []T {
	mats := winogradMatrices[mt]
	bt, g, at := conv64[T](mats.bt), conv64[T](mats.g), conv64[T](mats.at)
	a, b := len(bt), transpose(bt)
	u := make([][][]T, c.Out*c.In)
	for i := range u {
		f := [][]T{w[9*i : 9*i+3], w[9*i+3 : 9*i+6], w[9*i+6 : 9*i+9]}
		u[i] = mul(mul(g, f), transpose(g))
	}
	H, W := in.H, in.W
	y := make([]T, in.N*c.Out*H*W)
	for n := range in.N {
		for p0 := 0; p0 < H; p0 += mt {
			for q0 := 0; q0 < W; q0 += mt {
				v := make([][][]T, c.In)
				for ci := range c.In {
					d := make([][]T, a)
					for r := range a {
						d[r] = make([]T, a)
						for s := range a {
							h, q := p0-1+r, q0-1+s
							if h >= 0 && h < H && q >= 0 && q < W {
								d[r][s] = x[((n*c.In+ci)*H+h)*W+q]
							}
						}
					}
					v[ci] = mul(mul(bt, d), b)
				}
				for k := range c.Out {
					m := make([][]T, a)
					for r := range m {
						m[r] = make([]T, a)
					}
					for ci := range c.In {
						for r := range a {
							for s := range a {
								m[r][s] += u[k*c.In+ci][r][s] * v[ci][r][s]
							}
						}
					}
					o := mul(mul(at, m), transpose(at))
					for i := range mt {
						for j := range mt {
							if p0+i < H && q0+j < W {
								y[((n*c.Out+k)*H+p0+i)*W+q0+j] = o[i][j]
							}
						}
					}
				}
			}
		}
	}
	return y
}

// TestWinogradAccuracy measures, in float32, how far F(2x2, 3x3) and
// F(4x4, 3x3) are from the float64 direct convolution at ResNet-20's
// stride-1 shapes (batch 2), against the float32 direct convolution's own
// error. F(2x2) (what conv_wino computes) must stay within 1e-5 relative
// error, as direct float32 does; F(4x4)'s larger transform constants
// (up to 8, and 1/24) cost about an order of magnitude, which is why
// vknn uses F(2x2) (docs/perf.md).
func TestWinogradAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range resnetConvs {
		if !WinogradApplies(tc.c) {
			continue
		}
		c, in := tc.c, tc.in
		in.N = 2
		x64, w64 := randSlice[float64](rng, in.Len()), randSlice[float64](rng, c.WeightLen())
		x32, w32 := make([]float32, len(x64)), make([]float32, len(w64))
		for i := range x64 {
			x32[i] = float32(x64[i])
			x64[i] = float64(x32[i])
		}
		for i := range w64 {
			w32[i] = float32(w64[i])
			w64[i] = float64(w32[i])
		}
		o := c.OutShape(in)
		exact, direct := make([]float64, o.Len()), make([]float32, o.Len())
		ConvForward(c, in, x64, w64, nil, exact)
		ConvForward(c, in, x32, w32, nil, direct)
		errOf := func(y []float32) float64 {
			y64 := make([]float64, len(y))
			for i := range y {
				y64[i] = float64(y[i])
			}
			return maxRelErr(y64, exact)
		}
		e2, e4, ed := errOf(convWinogradM(2, c, in, x32, w32)), errOf(convWinogradM(4, c, in, x32, w32)), errOf(direct)
		t.Logf("%s: float32 relative error: direct %.2g, F(2x2,3x3) %.2g, F(4x4,3x3) %.2g", tc.name, ed, e2, e4)
		if e2 > 1e-5 || e2 != e2 {
			t.Errorf("%s: F(2x2) error %.2g", tc.name, e2)
		}
		if e4 > 1e-4 || !(e4 > e2) {
			t.Errorf("%s: F(4x4) error %.2g (F(2x2): %.2g)", tc.name, e4, e2)
		}
		// The matrices here give what the shipped transforms give.
		o64 := make([]float64, o.Len())
		ConvWinograd(c, in, x64, w64, nil, o64)
		if e := maxRelErr(convWinogradM(2, c, in, x64, w64), o64); e > 1e-12 || e != e {
			t.Errorf("%s: F(2x2) from the matrices vs ConvWinograd: %.2g", tc.name, e)
		}
	}
}
