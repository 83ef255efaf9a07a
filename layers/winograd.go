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
