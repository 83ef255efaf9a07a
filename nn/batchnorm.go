package nn

import (
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// BatchNorm2D normalises each of C channels over the batch and the plane,
// as PyTorch's nn.BatchNorm2d (on a vector, C x 1 x 1, it is
// nn.BatchNorm1d): parameters "weight" (gamma, starting at 1) and "bias"
// (beta, at 0), buffers "running_mean" and "running_var" (0 and 1). Eps
// and Momentum are PyTorch's (1e-5 and 0.1 when left at zero). Training
// uses the batch's statistics and moves the running ones; eval uses the
// running ones.
type BatchNorm2D struct {
	C             int
	Eps, Momentum float64
}

// Build adds the batch norm.
func (bn BatchNorm2D) Build(b *Builder, x Value) Value {
	if in := b.Shape(x); in.C != bn.C {
		b.Fail("BatchNorm2D of %d channels, its input is %v", bn.C, in)
		return x
	}
	cfg := layers.DefaultBN
	if bn.Eps != 0 {
		cfg.Eps = bn.Eps
	}
	if bn.Momentum != 0 {
		cfg.Momentum = bn.Momentum
	}
	if !(cfg.Eps > 0) || !(cfg.Momentum > 0 && cfg.Momentum <= 1) {
		b.Fail("BatchNorm2D eps %g, momentum %g: want eps > 0 and 0 < momentum <= 1", cfg.Eps, cfg.Momentum)
		return x
	}
	o := &bnOp{bn: cfg,
		gamma: b.param("weight", []int{bn.C}, false, Constant(1)),
		beta:  b.param("bias", []int{bn.C}, false, nil),
		mean:  b.buffer("running_mean", []int{bn.C}, 0),
		vari:  b.buffer("running_var", []int{bn.C}, 1)}
	return b.op(o, x)
}

type bnOp struct {
	noFLOPs
	bn                      layers.BN
	gamma, beta, mean, vari *Param
}

func (o *bnOp) kind() string                    { return "BatchNorm2D" }
func (o *bnOp) shape(in []Shape) (Shape, error) { return in[0], nil }
func (o *bnOp) params() []*Param                { return []*Param{o.gamma, o.beta} }

// bnSaved is what the CPU forward pass keeps for the backward one.
type bnSaved struct{ mean, invstd []float32 }

func (o *bnOp) forwardCPU(r *cpuRun, n *node) {
	in, x, y := r.shape(n.in[0]), r.in(n, 0), r.out(n)
	if !r.train {
		layers.BNForwardEval(o.bn, in, x, r.param(o.gamma), r.param(o.beta), r.buffer(o.mean), r.buffer(o.vari), y)
		r.set(n, y)
		return
	}
	sv := bnSaved{make([]float32, in.C), make([]float32, in.C)}
	layers.BNForwardTrain(o.bn, in, x, r.param(o.gamma), r.param(o.beta), r.buffer(o.mean), r.buffer(o.vari), y, sv.mean, sv.invstd)
	r.save(n, sv)
	r.set(n, y)
}

func (o *bnOp) backwardCPU(r *cpuRun, n *node) {
	in, sv := r.shape(n.in[0]), r.saved[n].(bnSaved)
	dx := make([]float32, in.Len())
	layers.BNBackward(in, r.in(n, 0), r.dy(n), r.param(o.gamma), sv.mean, sv.invstd, dx, r.pgrad(o.gamma), r.pgrad(o.beta))
	r.addGrad(n.in[0], dx)
}

// bnGPU is a batch norm on the GPU, with the residual add and ReLU it
// absorbed (step.res, step.relu).
type bnGPU struct {
	o     *bnOp
	s     *step
	layer *layers.BatchNormGPU
	args  layers.BNArgs
	train bool
}

func (o *bnOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	in := g.shape(s.n.in[0])
	layer, err := layers.NewBatchNormGPU(g.mgr(), in, o.bn, s.relu, s.res >= 0)
	if err != nil {
		return nil, err
	}
	b := &bnGPU{o: o, s: s, layer: layer, train: g.train, args: layers.BNArgs{
		X: g.act(s.n.in[0]), Y: g.act(s.out), Gamma: g.param(o.gamma), Beta: g.param(o.beta),
		RunMean: g.buffer(o.mean), RunVar: g.buffer(o.vari), Mean: g.newBuf(in.C), Invstd: g.newBuf(in.C)}}
	if s.res >= 0 {
		b.args.Res = g.act(s.res)
	}
	return b, nil
}

func (b *bnGPU) forward(s *gpu.Sequence) {
	if b.train {
		b.layer.ForwardTrain(s, b.args)
	} else {
		b.layer.ForwardEval(s, b.args)
	}
}

func (b *bnGPU) backward(g *gpuGraph) {
	dx, doneX := g.gradWrite(b.s.n.in[0])
	grads := layers.BNGrads{DY: g.grad(b.s.out), DX: dx, DGamma: g.pgrad(b.o.gamma), DBeta: g.pgrad(b.o.beta)}
	doneRes := func() {}
	if b.s.res >= 0 {
		grads.DRes, doneRes = g.gradWrite(b.s.res)
	}
	b.layer.Backward(g.seq, b.args, grads)
	doneX()
	doneRes()
}
