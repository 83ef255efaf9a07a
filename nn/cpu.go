package nn

import (
	"fmt"
	"math"

	"github.com/vknn/vknn/layers"
)

// CPU trains and runs a model with the layers' plain-Go references, one
// operation at a time (no fusion), in float32: slow, but the yardstick
// that the GPU is held to.
type CPU struct {
	model                *Model
	opt                  Optimizer
	batch                int
	seed                 uint64
	st                   *State
	follow               *Decisions
	flips, hard, decided int
}

// NewCPU makes a CPU executor training with opt on batches of batch.
// The state starts at zero: set it with SetState (e.g. Model.Init).
func NewCPU(m *Model, opt Optimizer, batch int, o Options) (*CPU, error) {
	if err := checkExecutor(m, opt, batch); err != nil {
		return nil, err
	}
	return &CPU{model: m, opt: opt, batch: batch, seed: o.Seed, st: m.zeroState(opt)}, nil
}

func checkExecutor(m *Model, opt Optimizer, batch int) error {
	if batch < 1 {
		return fmt.Errorf("nn: batch size %d: must be at least 1", batch)
	}
	if opt == nil {
		return fmt.Errorf("nn: no optimizer")
	}
	return opt.check()
}

// cpuRun is one pass of the CPU executor over a batch: the activations
// and gradients by value, and what each node saved for its backward pass.
type cpuRun struct {
	c      *CPU
	g      *graph
	n      int
	train  bool
	seed   uint32     // the step's dropout seed
	follow *Decisions // decisions to take (training only)
	act    [][]float32
	grad   [][]float32
	saved  map[*node]any
}

func (r *cpuRun) in(n *node, i int) []float32 { return r.act[n.in[i]] }
func (r *cpuRun) shape(v Value) layers.Shape  { return r.g.values[v].shape.batch(r.n) }
func (r *cpuRun) param(p *Param) []float32    { return p.Of(r.c.st.Params) }
func (r *cpuRun) pgrad(p *Param) []float32    { return p.Of(r.c.st.Grads) }
func (r *cpuRun) buffer(p *Param) []float32   { return p.Of(r.c.st.Buffers) }
func (r *cpuRun) needs(v Value) bool          { return r.g.needsGrad[v] }
func (r *cpuRun) set(n *node, y []float32)    { r.act[n.out] = y }
func (r *cpuRun) out(n *node) []float32       { return make([]float32, r.shape(n.out).Len()) }
func (r *cpuRun) save(n *node, v any)         { r.saved[n] = v }
func (r *cpuRun) dropoutKey(n *node) (uint32, bool) {
	return layers.DropoutKey(r.seed, salt(r.g, n)), r.train
}

// dy is the gradient at n's output (zeros when nothing reached it).
func (r *cpuRun) dy(n *node) []float32 {
	if r.grad[n.out] == nil {
		r.grad[n.out] = r.out(n)
	}
	return r.grad[n.out]
}

// addGrad adds d to the gradient of v (if v needs one).
func (r *cpuRun) addGrad(v Value, d []float32) {
	if !r.needs(v) {
		return
	}
	if r.grad[v] == nil {
		r.grad[v] = make([]float32, len(d))
	}
	for i, x := range d {
		r.grad[v][i] += x
	}
}

// forward runs the network on n samples of x.
func (c *CPU) forward(x []float32, n int, train bool) *cpuRun {
	g := c.model.g
	r := &cpuRun{c: c, g: g, n: n, train: train, seed: stepSeed(c.seed, c.st.Step+1),
		act: make([][]float32, len(g.values)), grad: make([][]float32, len(g.values)), saved: map[*node]any{}}
	if train {
		r.follow, c.flips, c.hard, c.decided = c.follow, 0, 0, 0
		c.follow = nil // for one step
	}
	r.act[0] = x
	for _, nd := range g.nodes {
		nd.op.forwardCPU(r, nd)
	}
	return r
}

// Step trains on one batch with learning rate lr and returns its mean loss
// and the number of correct predictions (before the update); the loss is
// NaN where the step left a parameter, buffer or optimizer slot infinite
// or NaN.
func (c *CPU) Step(images []float32, labels []int32, lr float64) (float64, int, error) {
	if err := c.model.checkBatch(images, labels, c.batch); err != nil {
		return 0, 0, err
	}
	if f := c.follow; f != nil && (f.g != c.model.g || f.batch != c.batch) {
		c.follow = nil
		return 0, 0, fmt.Errorf("nn: the decisions to follow are of another model or batch size")
	}
	r := c.forward(images, c.batch, true)
	logits := r.act[c.model.g.out]
	dz := make([]float32, len(logits))
	loss, correct := layers.SoftmaxCE(c.batch, c.model.Classes, logits, labels, dz)
	r.grad[c.model.g.out] = dz
	for i := len(r.g.nodes) - 1; i >= 0; i-- {
		nd := r.g.nodes[i]
		if r.needs(nd.out) {
			nd.op.backwardCPU(r, nd)
		}
	}
	c.st.Step++
	for _, gr := range c.model.groups() {
		slots := make([][]float32, len(c.st.Slots))
		for i, s := range c.st.Slots {
			slots[i] = s[gr.from:gr.to]
		}
		c.opt.stepCPU(lr, c.st.Step, gr.decay, c.st.Params[gr.from:gr.to], c.st.Grads[gr.from:gr.to], slots)
	}
	finite := layers.AllFinite(c.st.Params) && layers.AllFinite(c.st.Buffers)
	for _, s := range c.st.Slots {
		finite = finite && layers.AllFinite(s)
	}
	if !finite {
		return math.NaN(), correct, nil // as the GPU's Step
	}
	return float64(loss), correct, nil
}

// Eval runs the network in eval mode on any number of images, in batches,
// and returns the mean loss and the number of correct predictions.
func (c *CPU) Eval(images []float32, labels []int32) (float64, int, error) {
	return evalBatches(c.model, c.batch, images, labels, c.logits)
}

// Predict returns the logits (images x Classes) of the network in eval
// mode.
func (c *CPU) Predict(images []float32) ([]float32, error) {
	return predictBatches(c.model, c.batch, images, c.logits)
}

func (c *CPU) logits(x []float32, n int) ([]float32, error) {
	return c.forward(x, n, false).act[c.model.g.out], nil
}

// State returns a copy of the parameters, gradients, buffers and
// optimizer state.
func (c *CPU) State() (*State, error) { return c.st.clone(), nil }

// SetState replaces the state with a copy of st.
func (c *CPU) SetState(st *State) error {
	if err := c.model.checkState(st, c.opt); err != nil {
		return err
	}
	c.st = c.model.complete(st.clone(), c.opt)
	return nil
}

// Close does nothing: the CPU executor holds no device resources.
func (c *CPU) Close() error { return nil }
