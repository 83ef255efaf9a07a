package layers

import (
	"math"

	"github.com/vknn/vknn/gpu"
)

// Pool2D is max or average pooling with a Kernel x Kernel window, stride
// Stride and zero padding Pad. Average pooling divides by Kernel², padding
// included, as PyTorch's default.
type Pool2D struct {
	Max                 bool
	Kernel, Stride, Pad int
}

// OutShape is the output shape for input shape in.
func (p Pool2D) OutShape(in Shape) Shape {
	return Shape{in.N, in.C, (in.H+2*p.Pad-p.Kernel)/p.Stride + 1, (in.W+2*p.Pad-p.Kernel)/p.Stride + 1}
}

// PoolForward computes y on the CPU, and for max pooling the flat input
// index of each maximum in arg (nil for average pooling).
func PoolForward[T Float](p Pool2D, in Shape, x, y []T, arg []int32) {
	o := p.OutShape(in)
	for i := range y[:o.Len()] {
		q, r0, nc := i%o.W, (i/o.W)%o.H, i/o.Plane()
		best, at := T(math.Inf(-1)), int32(-1)
		var sum T
		for r := 0; r < p.Kernel; r++ {
			h := r0*p.Stride - p.Pad + r
			if h < 0 || h >= in.H {
				continue
			}
			for s := 0; s < p.Kernel; s++ {
				w := q*p.Stride - p.Pad + s
				if w < 0 || w >= in.W {
					continue
				}
				j := (nc*in.H+h)*in.W + w
				if x[j] > best || at < 0 {
					best, at = x[j], int32(j)
				}
				sum += x[j]
			}
		}
		if p.Max {
			y[i], arg[i] = best, at
		} else {
			y[i] = sum / T(p.Kernel*p.Kernel)
		}
	}
}

// PoolBackward computes dx from dy (and, for max pooling, arg).
func PoolBackward[T Float](p Pool2D, in Shape, dy []T, arg []int32, dx []T) {
	o := p.OutShape(in)
	for i := range dx[:in.Len()] {
		dx[i] = 0
	}
	for i := range dy[:o.Len()] {
		if p.Max {
			if arg[i] >= 0 {
				dx[arg[i]] += dy[i]
			}
			continue
		}
		q, r0, nc := i%o.W, (i/o.W)%o.H, i/o.Plane()
		for r := 0; r < p.Kernel; r++ {
			h := r0*p.Stride - p.Pad + r
			for s := 0; s < p.Kernel; s++ {
				w := q*p.Stride - p.Pad + s
				if h >= 0 && h < in.H && w >= 0 && w < in.W {
					dx[(nc*in.H+h)*in.W+w] += dy[i] / T(p.Kernel*p.Kernel)
				}
			}
		}
	}
}

// GlobalAvgPool computes y[n,c] = mean of x[n,c,:,:].
func GlobalAvgPool[T Float](in Shape, x, y []T) {
	L := in.Plane()
	for i := range y[:in.N*in.C] {
		var s T
		for _, v := range x[i*L:][:L] {
			s += v
		}
		y[i] = s / T(L)
	}
}

// GlobalAvgPoolBackward computes dx = dy/L, broadcast over each plane.
func GlobalAvgPoolBackward[T Float](in Shape, dy, dx []T) {
	L := in.Plane()
	for i := range dx[:in.Len()] {
		dx[i] = dy[i/L] / T(L)
	}
}

// PoolGPU records a pooling of one shape. Max pooling keeps the argmax
// indices in a buffer it owns.
type PoolGPU struct {
	P       Pool2D
	In, Out Shape
	fwd     *gpu.Kernel
	bwd     *gpu.Kernel
	arg     *gpu.Buffer
	push    []uint32
}

// NewPoolGPU prepares the kernels and the argmax buffer.
func NewPoolGPU(m *gpu.Manager, p Pool2D, in Shape) (*PoolGPU, error) {
	o := p.OutShape(in)
	g := &PoolGPU{P: p, In: in, Out: o, push: u32(in.N*in.C, in.H, in.W, o.H, o.W, p.Kernel, p.Stride, p.Pad)}
	ks := &kernels{m: m}
	g.fwd = ks.get("pool_fwd", "rww", 8, boolSpec(p.Max))
	g.bwd = ks.get("pool_bwd", "rrw", 8, boolSpec(p.Max))
	if ks.err != nil {
		return nil, ks.err
	}
	var err error
	g.arg, err = m.NewBuffer(uint64(4 * o.Len()))
	return g, err
}

// Forward records y = pool(x).
func (g *PoolGPU) Forward(s *gpu.Sequence, x, y gpu.Arg) {
	s.Dispatch(g.fwd, elementGroups(g.Out.Len()), g.push, x, y, g.arg)
}

// Backward records dx from dy.
func (g *PoolGPU) Backward(s *gpu.Sequence, dy, dx gpu.Arg) {
	s.Dispatch(g.bwd, elementGroups(g.In.Len()), g.push, dy, g.arg, dx)
}

// GlobalPoolGPU records global average pooling of one shape.
type GlobalPoolGPU struct {
	In       Shape
	fwd, bwd *gpu.Kernel
}

// NewGlobalPoolGPU prepares the kernels for inputs of shape in.
func NewGlobalPoolGPU(m *gpu.Manager, in Shape) (*GlobalPoolGPU, error) {
	ks := &kernels{m: m}
	g := &GlobalPoolGPU{In: in, fwd: ks.get("global_pool", "rw", 2), bwd: ks.get("global_pool_bwd", "rw", 2)}
	return g, ks.err
}

// Forward records y[n,c] = mean of x[n,c,:,:].
func (g *GlobalPoolGPU) Forward(s *gpu.Sequence, x, y gpu.Arg) {
	nc := g.In.N * g.In.C
	s.Dispatch(g.fwd, flat(nc, 64), u32(nc, g.In.Plane()), x, y)
}

// Backward records dx from dy.
func (g *GlobalPoolGPU) Backward(s *gpu.Sequence, dy, dx gpu.Arg) {
	s.Dispatch(g.bwd, elementGroups(g.In.Len()), u32(g.In.N*g.In.C, g.In.Plane()), dy, dx)
}

// Free releases the argmax buffer.
func (g *PoolGPU) Free() {
	if g.arg != nil {
		g.arg.Free()
	}
}

// ReadArgmax downloads the flat input index of each window's maximum
// from the last forward pass (max pooling).
func (g *PoolGPU) ReadArgmax(dst []int32) error { return g.arg.ReadInt32(dst) }
