package nn

import (
	"fmt"

	"github.com/vknn/vknn/layers"
)

// MaxPool2D takes the maximum of each Kernel x Kernel window, stride
// Stride (0 means Kernel, PyTorch's default), zero padding Pad (padding
// never wins), as PyTorch's nn.MaxPool2d.
type MaxPool2D struct{ Kernel, Stride, Pad int }

// Build adds the pooling.
func (p MaxPool2D) Build(b *Builder, x Value) Value {
	return buildPool(b, x, true, p.Kernel, p.Stride, p.Pad)
}

// AvgPool2D averages each Kernel x Kernel window, stride Stride (0 means
// Kernel), zero padding Pad counted in the average, as PyTorch's
// nn.AvgPool2d.
type AvgPool2D struct{ Kernel, Stride, Pad int }

// Build adds the pooling.
func (p AvgPool2D) Build(b *Builder, x Value) Value {
	return buildPool(b, x, false, p.Kernel, p.Stride, p.Pad)
}

func buildPool(b *Builder, x Value, isMax bool, kernel, stride, pad int) Value {
	if stride == 0 {
		stride = kernel
	}
	if kernel < 1 || stride < 1 || pad < 0 || 2*pad > kernel {
		b.Fail("pooling kernel %d, stride %d, padding %d: want kernel, stride >= 1 and 0 <= padding <= kernel/2", kernel, stride, pad)
		return x
	}
	return b.op(poolOp{p: layers.Pool2D{Max: isMax, Kernel: kernel, Stride: stride, Pad: pad}}, x)
}

type poolOp struct {
	noParams
	noFLOPs
	p layers.Pool2D
}

func (o poolOp) kind() string {
	if o.p.Max {
		return "MaxPool2D"
	}
	return "AvgPool2D"
}

func (o poolOp) shape(in []Shape) (Shape, error) {
	s := o.p.OutShape(in[0].batch(1))
	if in[0].H+2*o.p.Pad < o.p.Kernel || in[0].W+2*o.p.Pad < o.p.Kernel || s.H < 1 || s.W < 1 {
		return Shape{}, fmt.Errorf("a %dx%d window does not fit", o.p.Kernel, o.p.Kernel)
	}
	return Shape{s.C, s.H, s.W}, nil
}

func (o poolOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	var arg []int32
	if o.p.Max {
		arg = make([]int32, len(y))
		r.save(n, arg)
	}
	x := r.in(n, 0)
	layers.PoolForward(o.p, r.shape(n.in[0]), x, y, arg)
	if r.follow != nil && arg != nil {
		tol := tieTol(x)
		for i, a := range arg {
			if f := r.decideArg(n, i, x, a, tol); f != a {
				arg[i], y[i] = f, x[f]
			}
		}
	}
	r.set(n, y)
}

func (o poolOp) backwardCPU(r *cpuRun, n *node) {
	in := r.shape(n.in[0])
	arg, _ := r.saved[n].([]int32)
	dx := make([]float32, in.Len())
	layers.PoolBackward(o.p, in, r.dy(n), arg, dx)
	r.addGrad(n.in[0], dx)
}

func (o poolOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	pool, err := layers.NewPoolGPU(g.mgr(), o.p, g.shape(s.n.in[0]))
	if err != nil {
		return nil, err
	}
	g.own(pool)
	g.pools[s.n] = pool
	return g.unary(s, pool), nil
}

// GlobalAvgPool averages each channel's plane: C x H x W becomes C x 1 x 1
// (PyTorch's nn.AdaptiveAvgPool2d(1)).
type GlobalAvgPool struct{}

// Build adds the pooling.
func (GlobalAvgPool) Build(b *Builder, x Value) Value { return b.op(globalPoolOp{}, x) }

type globalPoolOp struct {
	noParams
	noFLOPs
}

func (globalPoolOp) kind() string                    { return "GlobalAvgPool" }
func (globalPoolOp) shape(in []Shape) (Shape, error) { return Shape{in[0].C, 1, 1}, nil }

func (globalPoolOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	layers.GlobalAvgPool(r.shape(n.in[0]), r.in(n, 0), y)
	r.set(n, y)
}

func (globalPoolOp) backwardCPU(r *cpuRun, n *node) {
	in := r.shape(n.in[0])
	dx := make([]float32, in.Len())
	layers.GlobalAvgPoolBackward(in, r.dy(n), dx)
	r.addGrad(n.in[0], dx)
}

func (globalPoolOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	pool, err := layers.NewGlobalPoolGPU(g.mgr(), g.shape(s.n.in[0]))
	if err != nil {
		return nil, err
	}
	return g.unary(s, pool), nil
}
