package layers

// Winograd F(2x2, 3x3) (Lavin and Gray 2015): a 2x2 output tile of a 3x3
// convolution with stride 1 is Aᵀ [U ⊙ V] A, summed over input channels,
// where U = G g Gᵀ is the 3x3 filter g transformed and V = Bᵀ d Bᵀ the
// 4x4 input patch d transformed:
//
//	G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// 16 multiplies per tile and channel pair instead of 36. These are the
// CPU references of conv_wino.comp and conv_wino_weights.comp; matrices
// are row-major, 4x4 in 16 values.

// WinogradWeights is U = G g Gᵀ for a 3x3 filter g.
func WinogradWeights[T Float](g [9]T) (u [16]T) {
	var a [4][3]T // G g
	for s := range 3 {
		a[0][s] = g[s]
		a[1][s] = (g[s] + g[3+s] + g[6+s]) / 2
		a[2][s] = (g[s] - g[3+s] + g[6+s]) / 2
		a[3][s] = g[6+s]
	}
	for r := range 4 {
		u[4*r] = a[r][0]
		u[4*r+1] = (a[r][0] + a[r][1] + a[r][2]) / 2
		u[4*r+2] = (a[r][0] - a[r][1] + a[r][2]) / 2
		u[4*r+3] = a[r][2]
	}
	return u
}

// WinogradInput is V = Bᵀ d B for a 4x4 input patch d.
func WinogradInput[T Float](d [16]T) (v [16]T) {
	var a [4][4]T // d B
	for r := range 4 {
		d0, d1, d2, d3 := d[4*r], d[4*r+1], d[4*r+2], d[4*r+3]
		a[r] = [4]T{d0 - d2, d1 + d2, d2 - d1, d1 - d3}
	}
	for j := range 4 {
		v[j] = a[0][j] - a[2][j]
		v[4+j] = a[1][j] + a[2][j]
		v[8+j] = a[2][j] - a[1][j]
		v[12+j] = a[1][j] - a[3][j]
	}
	return v
}

// WinogradOutput is the 2x2 tile Aᵀ m A for a 4x4 product sum m.
func WinogradOutput[T Float](m [16]T) (y [4]T) {
	for j := range 2 {
		var s [4]T // row j of Aᵀ m
		for c := range 4 {
			if j == 0 {
				s[c] = m[c] + m[4+c] + m[8+c]
			} else {
				s[c] = m[4+c] - m[8+c] - m[12+c]
			}
		}
		y[2*j] = s[0] + s[1] + s[2]
		y[2*j+1] = s[1] - s[2] - s[3]
	}
	return y
}

// WinogradApplies tells whether conv c is one Winograd F(2x2, 3x3)
// computes: 3x3, stride 1, padding 1 (any plane size; odd ones end in a
// partial tile).
func WinogradApplies(c Conv2D) bool { return c.Kernel == 3 && c.Stride == 1 && c.Pad == 1 }

// ConvWinograd computes ConvForward for a convolution WinogradApplies to,
// tile by tile through the transforms above: the reference the GPU kernel
// follows.
func ConvWinograd[T Float](c Conv2D, in Shape, x, w, b, y []T) {
	H, W := in.H, in.W
	u := make([][16]T, c.Out*c.In)
	for i := range u {
		u[i] = WinogradWeights([9]T(w[9*i : 9*i+9]))
	}
	at := func(plane []T, h, q int) T {
		if h < 0 || h >= H || q < 0 || q >= W {
			return 0
		}
		return plane[h*W+q]
	}
	parallel(in.N, func(n int) {
		v := make([][16]T, c.In)
		for p0 := 0; p0 < H; p0 += 2 {
			for q0 := 0; q0 < W; q0 += 2 {
				for ci := range c.In {
					plane := x[(n*c.In+ci)*H*W:][:H*W]
					var d [16]T
					for r := range 4 {
						for s := range 4 {
							d[4*r+s] = at(plane, p0-1+r, q0-1+s)
						}
					}
					v[ci] = WinogradInput(d)
				}
				for k := range c.Out {
					var m [16]T
					for ci := range c.In {
						for e := range 16 {
							m[e] += u[k*c.In+ci][e] * v[ci][e]
						}
					}
					t := WinogradOutput(m)
					for i := range 2 {
						for j := range 2 {
							if p0+i < H && q0+j < W {
								o := t[2*i+j]
								if b != nil {
									o += b[k]
								}
								y[((n*c.Out+k)*H+p0+i)*W+q0+j] = o
							}
						}
					}
				}
			}
		}
	})
}

// The weight gradient by F(3x3, 2x2): a 2x2 tile g of dy and the 4x4
// input patch d it reads add Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A to dw, with
//
//	Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
//	G  = [1 0; ½ ½; ½ -½; 0 1]
//	Aᵀ = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
//
// (the CPU reference of conv_wino_wgrad.comp).

// WinogradGradTile is G g Gᵀ for a 2x2 tile g of dy.
func WinogradGradTile[T Float](g [4]T) (u [16]T) {
	var a [4][2]T // G g
	for j := range 2 {
		a[0][j] = g[j]
		a[1][j] = (g[j] + g[2+j]) / 2
		a[2][j] = (g[j] - g[2+j]) / 2
		a[3][j] = g[2+j]
	}
	for r := range 4 {
		u[4*r] = a[r][0]
		u[4*r+1] = (a[r][0] + a[r][1]) / 2
		u[4*r+2] = (a[r][0] - a[r][1]) / 2
		u[4*r+3] = a[r][1]
	}
	return u
}

// WinogradGradInput is Bᵀ d B for a 4x4 input patch d.
func WinogradGradInput[T Float](d [16]T) (v [16]T) {
	var a [4][4]T // d B
	for r := range 4 {
		d0, d1, d2, d3 := d[4*r], d[4*r+1], d[4*r+2], d[4*r+3]
		a[r] = [4]T{d0 - d2, d1 + d2, d2 - d1, d3 - d1}
	}
	for j := range 4 {
		v[j] = a[0][j] - a[2][j]
		v[4+j] = a[1][j] + a[2][j]
		v[8+j] = a[2][j] - a[1][j]
		v[12+j] = a[3][j] - a[1][j]
	}
	return v
}

// WinogradGradOutput is the 3x3 Aᵀ m A for a 4x4 product sum m.
func WinogradGradOutput[T Float](m [16]T) (y [9]T) {
	var r [3][4]T // Aᵀ m
	for j := range 4 {
		r[0][j] = m[j] + m[4+j] + m[8+j]
		r[1][j] = m[4+j] - m[8+j]
		r[2][j] = m[4+j] + m[8+j] + m[12+j]
	}
	for i := range 3 {
		y[3*i] = r[i][0] + r[i][1] + r[i][2]
		y[3*i+1] = r[i][1] - r[i][2]
		y[3*i+2] = r[i][1] + r[i][2] + r[i][3]
	}
	return y
}

// ConvWinogradWeights computes ConvBackwardWeights' dw (no bias) for a
// convolution WinogradApplies to, tile by tile through the transforms
// above, summing in the transformed domain.
func ConvWinogradWeights[T Float](c Conv2D, in Shape, x, dy, dw []T) {
	H, W := in.H, in.W
	at := func(plane []T, h, q int) T {
		if h < 0 || h >= H || q < 0 || q >= W {
			return 0
		}
		return plane[h*W+q]
	}
	m := make([][16]T, c.Out*c.In)
	for n := range in.N {
		for p0 := 0; p0 < H; p0 += 2 {
			for q0 := 0; q0 < W; q0 += 2 {
				v := make([][16]T, c.In)
				for ci := range c.In {
					plane := x[(n*c.In+ci)*H*W:][:H*W]
					var d [16]T
					for r := range 4 {
						for s := range 4 {
							d[4*r+s] = at(plane, p0-1+r, q0-1+s)
						}
					}
					v[ci] = WinogradGradInput(d)
				}
				for k := range c.Out {
					plane := dy[(n*c.Out+k)*H*W:][:H*W]
					u := WinogradGradTile([4]T{at(plane, p0, q0), at(plane, p0, q0+1), at(plane, p0+1, q0), at(plane, p0+1, q0+1)})
					for ci := range c.In {
						for e := range 16 {
							m[k*c.In+ci][e] += u[e] * v[ci][e]
						}
					}
				}
			}
		}
	}
	for i := range m {
		o := WinogradGradOutput(m[i])
		copy(dw[9*i:9*i+9], o[:])
	}
}
