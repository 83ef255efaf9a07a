package nn

import (
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// Conv2D is a 2-D convolution, as PyTorch's nn.Conv2d: Out filters of
// In x Kernel x Kernel, stride Stride (0 means 1), zero padding Pad, and a
// bias when Bias is set. Its parameters are "weight" (Out x In x Kernel x
// Kernel) and "bias". Weights start He-normal (the ResNet paper's choice)
// and biases at zero, unless WeightInit or BiasInit say otherwise.
type Conv2D struct {
	In, Out, Kernel, Stride, Pad int
	Bias                         bool
	WeightInit, BiasInit         Init
}

// Build adds the convolution.
func (c Conv2D) Build(b *Builder, x Value) Value {
	lc := layers.Conv2D{In: c.In, Out: c.Out, Kernel: c.Kernel, Stride: max(c.Stride, 1), Pad: c.Pad, Bias: c.Bias}
	if in := b.Shape(x); in.C != c.In {
		b.Fail("Conv2D takes %d input channels, its input is %v", c.In, in)
		return x
	}
	if c.In < 1 || c.Out < 1 || c.Kernel < 1 || c.Stride < 0 || c.Pad < 0 {
		b.Fail("Conv2D %+v: channels and kernel must be positive, stride and padding not negative", lc)
		return x
	}
	init := c.WeightInit
	if init == nil {
		init = HeNormal(c.In * c.Kernel * c.Kernel)
	}
	o := &convOp{c: lc, w: b.param("weight", []int{c.Out, c.In, c.Kernel, c.Kernel}, true, init)}
	if c.Bias {
		o.b = b.param("bias", []int{c.Out}, false, c.BiasInit)
	}
	return b.op(o, x)
}

type convOp struct {
	c    layers.Conv2D
	w, b *Param
}

func (o *convOp) kind() string { return "Conv2D" }

func (o *convOp) shape(in []Shape) (Shape, error) {
	if err := o.c.Check(in[0].batch(1)); err != nil {
		return Shape{}, err
	}
	s := o.c.OutShape(in[0].batch(1))
	return Shape{s.C, s.H, s.W}, nil
}

func (o *convOp) params() []*Param {
	if o.b != nil {
		return []*Param{o.w, o.b}
	}
	return []*Param{o.w}
}

func (o *convOp) flops(in []Shape) float64 { return o.c.FLOPs(in[0].batch(1)) }

func (o *convOp) bias(p func(*Param) []float32) []float32 {
	if o.b == nil {
		return nil
	}
	return p(o.b)
}

func (o *convOp) forwardCPU(r *cpuRun, n *node) {
	y := r.out(n)
	layers.ConvForward(o.c, r.shape(n.in[0]), r.in(n, 0), r.param(o.w), o.bias(r.param), y)
	r.set(n, y)
}

func (o *convOp) backwardCPU(r *cpuRun, n *node) {
	in, dy := r.shape(n.in[0]), r.dy(n)
	layers.ConvBackwardWeights(o.c, in, r.in(n, 0), dy, r.pgrad(o.w), o.bias(r.pgrad))
	if r.needs(n.in[0]) {
		dx := make([]float32, in.Len())
		layers.ConvBackwardData(o.c, in, r.param(o.w), dy, dx)
		r.addGrad(n.in[0], dx)
	}
}

type convGPU struct {
	o     *convOp
	g     *gpuGraph
	n     *node
	conv  *layers.ConvGPU
	x, y  gpu.Arg
	w, db gpu.Arg
	b     gpu.Arg
}

func (o *convOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	conv, err := layers.NewConvGPU(g.mgr(), o.c, g.shape(s.n.in[0]), g.e.o.Conv)
	if err != nil {
		return nil, err
	}
	g.own(conv)
	c := &convGPU{o: o, g: g, n: s.n, conv: conv, x: g.act(s.n.in[0]), y: g.act(s.out), w: g.param(o.w)}
	if o.b != nil {
		c.b, c.db = g.param(o.b), g.pgrad(o.b)
	}
	return c, nil
}

func (c *convGPU) forward(s *gpu.Sequence) { c.conv.Forward(s, c.x, c.w, c.b, c.y) }

func (c *convGPU) backward(g *gpuGraph) {
	dy := g.grad(c.n.out)
	c.conv.BackwardWeights(g.seq, c.x, dy, g.pgrad(c.o.w), c.db)
	if g.needs(c.n.in[0]) {
		dx, done := g.gradWrite(c.n.in[0])
		c.conv.BackwardData(g.seq, dy, c.w, dx)
		done()
	}
}
