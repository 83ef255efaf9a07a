package resnet

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// Trainer is a model being trained on one device: its parameters,
// optimizer state and the recorded training step. Buffers are allocated
// once; Step replays the recorded command buffer.
type Trainer struct {
	M     *Model
	Mgr   *gpu.Manager
	Batch int

	params, state, grads, mom *gpu.Buffer
	sgd                       *layers.SGDGPU
	train                     *graph
	evals                     map[int]*graph // by batch size
	profile                   bool
}

// graph is the network's buffers and layers for one batch size, with the
// sequence recorded on them.
type graph struct {
	t      *Trainer
	batch  int
	images *gpu.Buffer // batch x 3 x 32 x 32
	labels *gpu.Buffer // batch int32
	out    *gpu.Buffer // [mean loss, correct]
	seq    *gpu.Sequence
	add    *layers.Add
	convs  map[string]*layers.ConvGPU
	bns    map[string]*layers.BatchNormGPU
	bufs   []*gpu.Buffer
}

// TrainerOptions configure NewTrainer.
type TrainerOptions struct {
	Profile bool // record timestamps around every dispatch (Trainer.Timings)
}

// NewTrainer allocates the model's buffers on mgr and records its training
// step for batches of the given size.
func NewTrainer(mgr *gpu.Manager, m *Model, batch int, opts TrainerOptions) (*Trainer, error) {
	if batch < 1 {
		return nil, fmt.Errorf("resnet: batch size %d: must be at least 1", batch)
	}
	t := &Trainer{M: m, Mgr: mgr, Batch: batch, evals: map[int]*graph{}, profile: opts.Profile}
	var err error
	alloc := func(n int) *gpu.Buffer {
		if err != nil {
			return nil
		}
		var b *gpu.Buffer
		b, err = mgr.NewBuffer(uint64(4 * max(n, 1)))
		return b
	}
	t.params, t.grads, t.mom = alloc(m.NParam), alloc(m.NParam), alloc(m.NParam)
	t.state = alloc(m.NState)
	if err != nil {
		return nil, err
	}
	if t.sgd, err = layers.NewSGDGPU(mgr, m.NParam); err != nil {
		return nil, err
	}
	// Zero everything once: the alignment gaps between tensors are never
	// written by a kernel but are swept by the flat SGD update.
	zero, err := mgr.NewSequence(gpu.SequenceOptions{})
	if err != nil {
		return nil, err
	}
	for _, b := range []*gpu.Buffer{t.params, t.grads, t.mom, t.state} {
		zero.Fill(b, 0)
	}
	err = zero.Submit()
	zero.Close()
	if err != nil {
		return nil, err
	}
	if t.train, err = t.newGraph(batch, true); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Trainer) param(i int) gpu.Slice {
	p := t.M.Params[i]
	return t.params.Slice(uint64(4*p.Offset), uint64(4*p.Len))
}

func (t *Trainer) grad(i int) gpu.Slice {
	p := t.M.Params[i]
	return t.grads.Slice(uint64(4*p.Offset), uint64(4*p.Len))
}

func (t *Trainer) stat(i int) gpu.Slice {
	p := t.M.State[i]
	return t.state.Slice(uint64(4*p.Offset), uint64(4*p.Len))
}

// newGraph allocates the activations for one batch size and records a
// training step (train) or a forward pass in eval mode with the loss.
func (t *Trainer) newGraph(batch int, train bool) (*graph, error) {
	g := &graph{t: t, batch: batch, convs: map[string]*layers.ConvGPU{}, bns: map[string]*layers.BatchNormGPU{}}
	r := &recorder{g: g, train: train}
	g.images = r.buf(batch * 3 * 32 * 32)
	g.labels = r.buf(batch)
	g.out = r.buf(2)
	if r.err != nil {
		return nil, r.err
	}
	var err error
	if g.add, err = layers.NewAdd(t.Mgr); err != nil {
		return nil, err
	}
	if g.seq, err = t.Mgr.NewSequence(gpu.SequenceOptions{Timestamps: t.profile && train}); err != nil {
		return nil, err
	}
	r.record()
	if r.err != nil {
		return nil, r.err
	}
	if err := g.seq.End(); err != nil {
		return nil, fmt.Errorf("resnet: recording the %s graph: %w", map[bool]string{true: "training", false: "eval"}[train], err)
	}
	return g, nil
}

// Step runs one training step on a batch (images normalised, batch x 3 x
// 32 x 32; labels 0..Classes-1) and returns its mean loss and the number
// of correct predictions (before the update).
func (t *Trainer) Step(images []float32, labels []int32, opt layers.SGD) (loss float32, correct int, err error) {
	if err := t.sgd.Set(opt); err != nil {
		return 0, 0, err
	}
	return t.train.run(images, labels)
}

// Eval runs the network in eval mode on images and returns the mean loss
// and the number of correct predictions; any count of images.
func (t *Trainer) Eval(images []float32, labels []int32) (loss float64, correct int, err error) {
	n := len(labels)
	for start := 0; start < n; start += t.Batch {
		b := min(t.Batch, n-start)
		g, ok := t.evals[b]
		if !ok {
			if g, err = t.newGraph(b, false); err != nil {
				return 0, 0, err
			}
			t.evals[b] = g
		}
		l, c, err := g.run(images[start*3072:(start+b)*3072], labels[start:start+b])
		if err != nil {
			return 0, 0, err
		}
		loss += float64(l) * float64(b)
		correct += c
	}
	return loss / float64(max(n, 1)), correct, nil
}

func (g *graph) run(images []float32, labels []int32) (float32, int, error) {
	if len(labels) != g.batch || len(images) != g.batch*3072 {
		return 0, 0, fmt.Errorf("resnet: batch of %d images and %d labels, want %d", len(images)/3072, len(labels), g.batch)
	}
	if err := g.images.WriteFloat32(images); err != nil {
		return 0, 0, err
	}
	if err := g.labels.WriteInt32(labels); err != nil {
		return 0, 0, err
	}
	if err := g.seq.Submit(); err != nil {
		return 0, 0, err
	}
	var out [2]float32
	if err := g.out.ReadFloat32(out[:]); err != nil {
		return 0, 0, err
	}
	return out[0], int(out[1]), nil
}

// Timings is the per-dispatch device time of the last training step when
// profiling.
func (t *Trainer) Timings() ([]gpu.Timing, error) { return t.train.seq.Timings() }

// SetWeights uploads flat parameter and state buffers (as Model.Init
// returns) and zeroes the momentum.
func (t *Trainer) SetWeights(params, state []float32) error {
	return t.SetState(params, state, make([]float32, t.M.NParam))
}

// SetState uploads parameters, batch-norm state and momentum.
func (t *Trainer) SetState(params, state, momentum []float32) error {
	if len(params) != t.M.NParam || len(state) != t.M.NState || len(momentum) != t.M.NParam {
		return fmt.Errorf("resnet: state of %d/%d/%d floats, model needs %d/%d/%d",
			len(params), len(state), len(momentum), t.M.NParam, t.M.NState, t.M.NParam)
	}
	if err := t.params.WriteFloat32(params); err != nil {
		return err
	}
	if err := t.mom.WriteFloat32(momentum); err != nil {
		return err
	}
	return t.state.WriteFloat32(state)
}

// State downloads parameters, batch-norm state and momentum.
func (t *Trainer) State() (params, state, momentum []float32, err error) {
	params, state, momentum = make([]float32, t.M.NParam), make([]float32, t.M.NState), make([]float32, t.M.NParam)
	if err = t.params.ReadFloat32(params); err == nil {
		if err = t.state.ReadFloat32(state); err == nil {
			err = t.mom.ReadFloat32(momentum)
		}
	}
	return params, state, momentum, err
}
