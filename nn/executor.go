package nn

import (
	"fmt"

	"github.com/vknn/vknn/layers"
)

// Executor trains and runs a Model: the GPU executor or the CPU
// reference. Both give the same results to rounding. An executor is used
// by one goroutine at a time.
type Executor interface {
	// Step trains on one batch (images normalised, batch x C x H x W;
	// labels in [0, Classes)) with learning rate lr, and returns the mean
	// loss and the number of correct predictions before the update.
	Step(images []float32, labels []int32, lr float64) (loss float64, correct int, err error)
	// Eval runs the network in eval mode on any number of images and
	// returns the mean loss and the number of correct predictions.
	Eval(images []float32, labels []int32) (loss float64, correct int, err error)
	// Predict returns the logits (images x Classes) in eval mode.
	Predict(images []float32) ([]float32, error)
	// State returns a copy of the model's state; SetState replaces it.
	State() (*State, error)
	SetState(*State) error
	Close() error
}

// Options configure an executor.
type Options struct {
	// Seed draws the dropout masks (a function of the seed and the step).
	Seed uint64
	// Profile records a timestamp around every dispatch of the GPU
	// training step (GPU.Timings).
	Profile bool
	// Conv picks the GPU convolution kernels (0: the device's default).
	Conv layers.ConvVersion
}

// State is a model's tensors on the host, in the model's flat layout
// (Param.Of picks one out).
type State struct {
	Params  []float32   // Model.NParam floats
	Grads   []float32   // the last step's gradients (NParam; may be nil in SetState)
	Buffers []float32   // Model.NBuffer floats: running statistics
	Slots   [][]float32 // the optimizer's state, one NParam-float slice per Optimizer.Slots name
	Step    int         // optimizer steps taken
}

func (st *State) clone() *State {
	c := &State{Params: clone(st.Params), Grads: clone(st.Grads), Buffers: clone(st.Buffers), Step: st.Step}
	for _, s := range st.Slots {
		c.Slots = append(c.Slots, clone(s))
	}
	return c
}

func clone(x []float32) []float32 {
	if x == nil {
		return nil
	}
	return append([]float32(nil), x...)
}

// zeroState is an all-zero state for training with opt.
func (m *Model) zeroState(opt Optimizer) *State {
	return m.complete(&State{Params: make([]float32, m.NParam), Buffers: make([]float32, m.NBuffer)}, opt)
}

// complete adds zero gradients and optimizer state where st has none.
func (m *Model) complete(st *State, opt Optimizer) *State {
	if st.Grads == nil {
		st.Grads = make([]float32, m.NParam)
	}
	for len(st.Slots) < len(opt.Slots()) {
		st.Slots = append(st.Slots, make([]float32, m.NParam))
	}
	return st
}

// checkState reports an error unless st fits the model and optimizer
// (gradients and optimizer state may be missing: they start at zero).
func (m *Model) checkState(st *State, opt Optimizer) error {
	if st == nil {
		return fmt.Errorf("nn: no state")
	}
	if len(st.Params) != m.NParam || len(st.Buffers) != m.NBuffer {
		return fmt.Errorf("nn: state of %d parameter and %d buffer floats, %s needs %d and %d",
			len(st.Params), len(st.Buffers), m.Name, m.NParam, m.NBuffer)
	}
	if st.Grads != nil && len(st.Grads) != m.NParam {
		return fmt.Errorf("nn: state of %d gradient floats, %s needs %d", len(st.Grads), m.Name, m.NParam)
	}
	if opt != nil && len(st.Slots) != 0 && len(st.Slots) != len(opt.Slots()) {
		return fmt.Errorf("nn: state has %d optimizer tensors per parameter, the optimizer keeps %d", len(st.Slots), len(opt.Slots()))
	}
	for _, s := range st.Slots {
		if len(s) != m.NParam {
			return fmt.Errorf("nn: optimizer state of %d floats, %s needs %d", len(s), m.Name, m.NParam)
		}
	}
	if st.Step < 0 {
		return fmt.Errorf("nn: state at step %d", st.Step)
	}
	return nil
}

// checkBatch reports an error unless images and labels are one batch of
// n samples with valid labels.
func (m *Model) checkBatch(images []float32, labels []int32, n int) error {
	if len(labels) != n || len(images) != n*m.Input.Len() {
		return fmt.Errorf("nn: a batch of %d floats and %d labels; %s takes %d images of %v (%d floats) and %d labels",
			len(images), len(labels), m.Name, n, m.Input, n*m.Input.Len(), n)
	}
	return m.checkLabels(labels)
}

func (m *Model) checkLabels(labels []int32) error {
	for i, l := range labels {
		if l < 0 || int(l) >= m.Classes {
			return fmt.Errorf("nn: label %d of image %d is outside [0, %d)", l, i, m.Classes)
		}
	}
	return nil
}

// evalBatches splits images into batches of at most batch, runs logits
// on each and returns the mean softmax cross-entropy and the number of
// images whose largest logit is the label.
func evalBatches(m *Model, batch int, images []float32, labels []int32, logits func(x []float32, n int) ([]float32, error)) (float64, int, error) {
	per := m.Input.Len()
	if len(images) != len(labels)*per {
		return 0, 0, fmt.Errorf("nn: %d floats for %d labels; %s takes %d floats an image", len(images), len(labels), m.Name, per)
	}
	if err := m.checkLabels(labels); err != nil {
		return 0, 0, err
	}
	var loss float64
	correct := 0
	for start := 0; start < len(labels); start += batch {
		b := min(batch, len(labels)-start)
		z, err := logits(images[start*per:(start+b)*per], b)
		if err != nil {
			return 0, 0, err
		}
		l, k := layers.SoftmaxCE(b, m.Classes, z, labels[start:start+b], make([]float32, len(z)))
		loss += float64(l) * float64(b)
		correct += k
	}
	return loss / float64(max(len(labels), 1)), correct, nil
}

// predictBatches splits images into batches of at most batch and joins the
// logits run returns.
func predictBatches(m *Model, batch int, images []float32, run func(x []float32, n int) ([]float32, error)) ([]float32, error) {
	per := m.Input.Len()
	if len(images)%per != 0 {
		return nil, fmt.Errorf("nn: %d floats are not whole images of %v", len(images), m.Input)
	}
	n := len(images) / per
	out := make([]float32, 0, n*m.Classes)
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		z, err := run(images[start*per:(start+b)*per], b)
		if err != nil {
			return nil, err
		}
		out = append(out, z...)
	}
	return out, nil
}

// group is a range of flat parameter storage that an optimizer updates
// with one set of hyperparameters.
type group struct {
	from, to int
	decay    bool
}

// groups are the weights (with weight decay) and the other parameters.
func (m *Model) groups() []group {
	var gs []group
	if m.DecayEnd > 0 {
		gs = append(gs, group{0, m.DecayEnd, true})
	}
	if m.NParam > m.DecayEnd {
		gs = append(gs, group{m.DecayEnd, m.NParam, false})
	}
	return gs
}

// stepSeed is the dropout seed of optimizer step t (1 for the first).
func stepSeed(seed uint64, t int) uint32 {
	z := seed + uint64(t)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32(z ^ (z >> 31))
}

// salt is a node's share of its dropout key: its index in the graph.
func salt(g *graph, n *node) uint32 { return uint32(g.index[n]) }
