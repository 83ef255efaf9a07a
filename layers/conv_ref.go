package layers

import (
	"fmt"
	"sync"
)

// Conv2D is a 2-D convolution: Out filters of In x Kernel x Kernel, zero
// padding Pad, stride Stride, with an optional bias. Weights are laid out
// [Out][In][Kernel][Kernel], as PyTorch's.
type Conv2D struct {
	In, Out, Kernel, Stride, Pad int
	Bias                         bool
}

// OutShape is the output shape for input shape in.
func (c Conv2D) OutShape(in Shape) Shape {
	return Shape{in.N, c.Out, (in.H+2*c.Pad-c.Kernel)/c.Stride + 1, (in.W+2*c.Pad-c.Kernel)/c.Stride + 1}
}

// WeightLen is the number of weights.
func (c Conv2D) WeightLen() int { return c.Out * c.In * c.Kernel * c.Kernel }

// Check reports an error unless the convolution fits input shape in.
func (c Conv2D) Check(in Shape) error {
	if err := in.Valid(); err != nil {
		return err
	}
	if c.In != in.C || c.Out <= 0 || c.Kernel <= 0 || c.Stride <= 0 || c.Pad < 0 {
		return fmt.Errorf("layers: conv %+v does not fit input %v", c, in)
	}
	if o := c.OutShape(in); in.H+2*c.Pad < c.Kernel || in.W+2*c.Pad < c.Kernel || o.H <= 0 || o.W <= 0 {
		return fmt.Errorf("layers: conv %+v leaves no output for input %v", c, in)
	}
	return nil
}

// FLOPs is the multiply-add count of one pass (forward, data gradient or
// weight gradient), times two: 2*N*K*C*R*S*P*Q.
func (c Conv2D) FLOPs(in Shape) float64 {
	o := c.OutShape(in)
	return 2 * float64(in.N) * float64(c.Out*c.In*c.Kernel*c.Kernel) * float64(o.H*o.W)
}

// parallel runs f(n) for n in [0, count) on up to 8 goroutines.
func parallel(count int, f func(n int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(count, 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				f(n)
			}
		}()
	}
	for n := range count {
		work <- n
	}
	close(work)
	wg.Wait()
}

// ConvForward computes y = conv(x, w) + b on the CPU. b may be nil.
func ConvForward[T Float](c Conv2D, in Shape, x, w, b, y []T) {
	o := c.OutShape(in)
	R := c.Kernel
	parallel(in.N, func(n int) {
		for k := 0; k < c.Out; k++ {
			out := y[(n*o.C+k)*o.Plane():][:o.Plane()]
			for i := range out {
				out[i] = 0
				if b != nil {
					out[i] = b[k]
				}
			}
			for ci := 0; ci < c.In; ci++ {
				plane := x[(n*in.C+ci)*in.Plane():][:in.Plane()]
				for r := 0; r < R; r++ {
					for s := 0; s < R; s++ {
						wv := w[((k*c.In+ci)*R+r)*R+s]
						for p := 0; p < o.H; p++ {
							h := p*c.Stride - c.Pad + r
							if h < 0 || h >= in.H {
								continue
							}
							for q := 0; q < o.W; q++ {
								wi := q*c.Stride - c.Pad + s
								if wi >= 0 && wi < in.W {
									out[p*o.W+q] += wv * plane[h*in.W+wi]
								}
							}
						}
					}
				}
			}
		}
	})
}

// ConvBackwardData computes dx = d(loss)/dx from dy on the CPU.
func ConvBackwardData[T Float](c Conv2D, in Shape, w, dy, dx []T) {
	o := c.OutShape(in)
	R := c.Kernel
	parallel(in.N, func(n int) {
		for ci := 0; ci < c.In; ci++ {
			plane := dx[(n*in.C+ci)*in.Plane():][:in.Plane()]
			for i := range plane {
				plane[i] = 0
			}
			for k := 0; k < c.Out; k++ {
				g := dy[(n*o.C+k)*o.Plane():][:o.Plane()]
				for r := 0; r < R; r++ {
					for s := 0; s < R; s++ {
						wv := w[((k*c.In+ci)*R+r)*R+s]
						for p := 0; p < o.H; p++ {
							h := p*c.Stride - c.Pad + r
							if h < 0 || h >= in.H {
								continue
							}
							for q := 0; q < o.W; q++ {
								wi := q*c.Stride - c.Pad + s
								if wi >= 0 && wi < in.W {
									plane[h*in.W+wi] += wv * g[p*o.W+q]
								}
							}
						}
					}
				}
			}
		}
	})
}

// ConvBackwardWeights computes dw (and db, if not nil) from x and dy on
// the CPU.
func ConvBackwardWeights[T Float](c Conv2D, in Shape, x, dy, dw, db []T) {
	o := c.OutShape(in)
	R := c.Kernel
	parallel(c.Out, func(k int) {
		for ci := 0; ci < c.In; ci++ {
			for r := 0; r < R; r++ {
				for s := 0; s < R; s++ {
					var acc T
					for n := 0; n < in.N; n++ {
						plane := x[(n*in.C+ci)*in.Plane():][:in.Plane()]
						g := dy[(n*o.C+k)*o.Plane():][:o.Plane()]
						for p := 0; p < o.H; p++ {
							h := p*c.Stride - c.Pad + r
							if h < 0 || h >= in.H {
								continue
							}
							for q := 0; q < o.W; q++ {
								wi := q*c.Stride - c.Pad + s
								if wi >= 0 && wi < in.W {
									acc += g[p*o.W+q] * plane[h*in.W+wi]
								}
							}
						}
					}
					dw[((k*c.In+ci)*R+r)*R+s] = acc
				}
			}
		}
		if db != nil {
			var acc T
			for n := 0; n < in.N; n++ {
				for _, v := range dy[(n*o.C+k)*o.Plane():][:o.Plane()] {
					acc += v
				}
			}
			db[k] = acc
		}
	})
}
