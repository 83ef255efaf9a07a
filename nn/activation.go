package nn

import (
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// ReLU is max(x, 0). After a batch norm (and a residual add) the GPU
// fuses it into the batch norm's kernels.
type ReLU struct{}

// Build adds the ReLU.
func (ReLU) Build(b *Builder, x Value) Value { return b.op(reluOp{}, x) }

type reluOp struct {
	noParams
	noFLOPs
}

func (reluOp) kind() string                    { return "ReLU" }
func (reluOp) shape(in []Shape) (Shape, error) { return in[0], nil }

// forwardCPU is layers.ReLU, keeping the mask (which may follow the
// GPU's, see Decisions) for the backward pass.
func (reluOp) forwardCPU(r *cpuRun, n *node) {
	x, y := r.in(n, 0), r.out(n)
	mask := make([]bool, len(x))
	var tol float32
	if r.follow != nil {
		tol = tieTol(x)
	}
	for i, v := range x {
		if mask[i] = r.decideMask(n, i, v, tol); mask[i] {
			y[i] = v
		}
	}
	r.save(n, mask)
	r.set(n, y)
}

func (reluOp) backwardCPU(r *cpuRun, n *node) {
	dy, dx, mask := r.dy(n), r.out(n), r.saved[n].([]bool)
	for i, m := range mask {
		if m {
			dx[i] = dy[i]
		}
	}
	r.addGrad(n.in[0], dx)
}

type reluGPU struct {
	n    *node
	relu *layers.ReLUGPU
	x, y gpu.Arg
}

func (reluOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	relu, err := layers.NewReLUGPU(g.mgr(), g.shape(s.out).Len())
	return &reluGPU{n: s.n, relu: relu, x: g.act(s.n.in[0]), y: g.act(s.out)}, err
}

func (r *reluGPU) forward(s *gpu.Sequence) { r.relu.Forward(s, r.x, r.y) }

func (r *reluGPU) backward(g *gpuGraph) {
	dx, done := g.gradWrite(r.n.in[0])
	r.relu.Backward(g.seq, r.y, g.grad(r.n.out), dx)
	done()
}

// Dropout zeroes each element with probability P while training and
// scales the others by 1/(1-P), as PyTorch's nn.Dropout; in eval mode it
// is the identity. The masks are drawn from the executor's seed and the
// step, identically on the GPU and the CPU.
type Dropout struct{ P float64 }

// Build adds the dropout.
func (d Dropout) Build(b *Builder, x Value) Value {
	if err := (layers.Dropout{P: d.P}).Check(); err != nil {
		b.Fail("%v", err)
		return x
	}
	return b.op(dropoutOp{d: layers.Dropout{P: d.P}}, x)
}

type dropoutOp struct {
	noParams
	noFLOPs
	d layers.Dropout
}

func (dropoutOp) kind() string                    { return "Dropout" }
func (dropoutOp) shape(in []Shape) (Shape, error) { return in[0], nil }
func (dropoutOp) alias(train bool) bool           { return !train }

func (o dropoutOp) forwardCPU(r *cpuRun, n *node) {
	key, train := r.dropoutKey(n)
	if !train {
		r.set(n, r.in(n, 0))
		return
	}
	y := r.out(n)
	layers.DropoutApply(o.d, key, r.in(n, 0), y)
	r.set(n, y)
}

func (o dropoutOp) backwardCPU(r *cpuRun, n *node) {
	key, _ := r.dropoutKey(n)
	dx := r.out(n)
	layers.DropoutApply(o.d, key, r.dy(n), dx)
	r.addGrad(n.in[0], dx)
}

type dropoutGPU struct {
	n    *node
	salt uint32
	d    *layers.DropoutGPU
	x, y gpu.Arg
	seed gpu.Arg
}

func (o dropoutOp) lower(g *gpuGraph, s *step) (gpuOp, error) {
	d, err := layers.NewDropoutGPU(g.mgr(), o.d, g.shape(s.out).Len())
	return &dropoutGPU{n: s.n, salt: salt(g.e.model.g, s.n), d: d, x: g.act(s.n.in[0]), y: g.act(s.out), seed: g.seed()}, err
}

func (d *dropoutGPU) forward(s *gpu.Sequence) { d.d.Apply(s, d.salt, d.x, d.y, d.seed) }

func (d *dropoutGPU) backward(g *gpuGraph) {
	dx, done := g.gradWrite(d.n.in[0])
	d.d.Apply(g.seq, d.salt, g.grad(d.n.out), dx, d.seed)
	done()
}
