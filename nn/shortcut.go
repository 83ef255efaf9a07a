package nn

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// ShortcutA is the ResNet paper's option-A shortcut from In to Out
// channels (Out >= In): subsample by Stride, then pad with zero channels,
// (Out-In)/2 before and the rest after. It has no parameters. (Option B,
// the projection, is a 1x1 Conv2D and a BatchNorm2D.)
type ShortcutA struct{ In, Out, Stride int }

// Build adds the shortcut.
func (a ShortcutA) Build(b *Builder, x Value) Value {
	if in := b.Shape(x); in.C != a.In || a.Out < a.In || a.Stride < 1 {
		b.Fail("ShortcutA %+v on %v: want the input's channels as In, Out >= In and Stride >= 1", a, in)
		return x
	}
	return b.op(shortcutAOp{a: layers.ShortcutA{In: a.In, Out: a.Out, Stride: a.Stride}}, x)
}

// ShortcutB is the paper's option-B shortcut, a projection: a 1x1
// convolution of stride Stride from In to Out channels and a batch norm
// (named "0" and "1": under a Residual, shortcut.0.weight, ...).
func ShortcutB(in, out, stride int) Module {
	return Seq(Conv2D{In: in, Out: out, Kernel: 1, Stride: stride}, BatchNorm2D{C: out})
}

type shortcutAOp struct {
	noParams
	noFLOPs
	a layers.ShortcutA
}

func (shortcutAOp) kind() string { return "ShortcutA" }

func (o shortcutAOp) shape(in []Shape) (Shape, error) {
	s := o.a.OutShape(in[0].batch(1))
	return Shape{s.C, s.H, s.W}, nil
}

func (o shortcutAOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	layers.ShortcutAForward(o.a, r.shape(n.in[0]), r.in(n, 0), y)
	r.set(n, y)
}

func (o shortcutAOp) backwardCPU(r *cpuRun, n *node) {
	in := r.shape(n.in[0])
	dx := make([]float32, in.Len())
	layers.ShortcutABackwardAdd(o.a, in, r.dy(n), dx)
	r.addGrad(n.in[0], dx)
}

type shortcutAGPU struct {
	n    *node
	sc   *layers.ShortcutAGPU
	x, y gpu.Arg
}

func (o shortcutAOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	sc, err := layers.NewShortcutAGPU(g.mgr(), o.a, g.shape(s.n.in[0]))
	return &shortcutAGPU{n: s.n, sc: sc, x: g.act(s.n.in[0]), y: g.act(s.out)}, err
}

func (a *shortcutAGPU) forward(s *gpu.Sequence) { a.sc.Forward(s, a.x, a.y) }

// backward adds to x's gradient (the kernel accumulates; gradAccum zeroes
// it first if nothing has written it). A Residual places its shortcut
// first, so that by now the body's convolution has written it and no
// zeroing is recorded.
func (a *shortcutAGPU) backward(g *gpuGraph) {
	a.sc.BackwardAdd(g.seq, g.grad(a.n.out), g.gradAccum(a.n.in[0]))
}

// addOp is the elementwise sum of two values of one shape.
type addOp struct {
	noParams
	noFLOPs
}

func (addOp) kind() string { return "Add" }

func (addOp) shape(in []Shape) (Shape, error) {
	if in[0] != in[1] {
		return Shape{}, fmt.Errorf("adding %v and %v: the shapes differ", in[0], in[1])
	}
	return in[0], nil
}

func (addOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	a, b := r.in(n, 0), r.in(n, 1)
	for i := range y {
		y[i] = a[i] + b[i]
	}
	r.set(n, y)
}

func (addOp) backwardCPU(r *cpuRun, n *node) {
	for _, v := range n.in {
		r.addGrad(v, r.dy(n))
	}
}

type addGPU struct {
	n       *node
	g       *gpuGraph
	a, b, y gpu.Arg
}

func (addOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	return &addGPU{n: s.n, g: g, a: g.act(s.n.in[0]), b: g.act(s.n.in[1]), y: g.act(s.out)}, nil
}

func (a *addGPU) forward(s *gpu.Sequence) {
	s.Copy(a.a, a.y)
	a.g.add.Record(s, a.g.shape(a.n.out).Len(), 1, a.b, a.y)
}

func (a *addGPU) backward(g *gpuGraph) {
	dy := g.grad(a.n.out)
	for _, v := range a.n.in {
		g.gradAddFrom(v, dy)
	}
}
