package nn

import (
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// Flatten makes C x H x W a vector of C*H*W (PyTorch's nn.Flatten). The
// data does not move: on the GPU the output is the input's buffer.
type Flatten struct{}

// Build adds the flatten.
func (Flatten) Build(b *Builder, x Value) Value { return b.op(flattenOp{}, x) }

type flattenOp struct {
	noParams
	noFLOPs
}

func (flattenOp) kind() string                    { return "Flatten" }
func (flattenOp) shape(in []Shape) (Shape, error) { return Shape{in[0].Len(), 1, 1}, nil }
func (flattenOp) alias(bool) bool                 { return true }
func (flattenOp) forwardCPU(r *cpuRun, n *node)   { r.set(n, r.in(n, 0)) }
func (flattenOp) backwardCPU(r *cpuRun, n *node)  { r.addGrad(n.in[0], r.dy(n)) }

func (flattenOp) lower(*gpuGraph, *step) (gpuOp, error) { return nothing{}, nil }

// Linear is y = x W^T + b on vectors of In (a C x H x W input is taken as
// a vector of C*H*W), as PyTorch's nn.Linear: parameters "weight" (Out x
// In) and "bias" (Out), both starting uniform in ±1/sqrt(In) (PyTorch's
// default) unless WeightInit or BiasInit say otherwise.
type Linear struct {
	In, Out              int
	WeightInit, BiasInit Init
}

// Build adds the linear layer.
func (l Linear) Build(b *Builder, x Value) Value {
	if in := b.Shape(x); in.Len() != l.In {
		b.Fail("Linear takes %d inputs, its input is %v (%d)", l.In, in, in.Len())
		return x
	}
	if l.Out < 1 {
		b.Fail("Linear with %d outputs", l.Out)
		return x
	}
	winit, binit := l.WeightInit, l.BiasInit
	if winit == nil {
		winit = Uniform(fanInBound(l.In))
	}
	if binit == nil {
		binit = Uniform(fanInBound(l.In))
	}
	o := &linearOp{l: layers.Linear{In: l.In, Out: l.Out},
		w: b.param("weight", []int{l.Out, l.In}, true, winit),
		b: b.param("bias", []int{l.Out}, false, binit)}
	return b.op(o, x)
}

type linearOp struct {
	l    layers.Linear
	w, b *Param
}

func (o *linearOp) kind() string                 { return "Linear" }
func (o *linearOp) shape([]Shape) (Shape, error) { return Shape{o.l.Out, 1, 1}, nil }
func (o *linearOp) params() []*Param             { return []*Param{o.w, o.b} }
func (o *linearOp) flops([]Shape) float64        { return 2 * float64(o.l.In*o.l.Out) }
func (o *linearOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	layers.LinearForward(o.l, r.n, r.in(n, 0), r.param(o.w), r.param(o.b), y)
	r.set(n, y)
}

func (o *linearOp) backwardCPU(r *cpuRun, n *node) {
	dx := make([]float32, r.n*o.l.In)
	layers.LinearBackward(o.l, r.n, r.in(n, 0), r.param(o.w), r.dy(n), dx, r.pgrad(o.w), r.pgrad(o.b))
	r.addGrad(n.in[0], dx)
}

type linearGPU struct {
	o          *linearOp
	n          *node
	lin        *layers.LinearGPU
	x, y, w, b gpu.Arg
}

func (o *linearOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	lin, err := layers.NewLinearGPU(g.mgr(), o.l, g.batch)
	return &linearGPU{o: o, n: s.n, lin: lin, x: g.act(s.n.in[0]), y: g.act(s.out), w: g.param(o.w), b: g.param(o.b)}, err
}

func (l *linearGPU) forward(s *gpu.Sequence) { l.lin.Forward(s, l.x, l.w, l.b, l.y) }

func (l *linearGPU) backward(g *gpuGraph) {
	dx, done := g.gradWrite(l.n.in[0])
	l.lin.Backward(g.seq, l.x, l.w, g.grad(l.n.out), dx, g.pgrad(l.o.w), g.pgrad(l.o.b))
	done()
}
