package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// GPU trains and runs a model on one Vulkan device. The parameters, their
// gradients, the optimizer's state and the running statistics live on the
// device; a training step (forward, loss, backward, optimizer) is one
// command buffer, recorded once and replayed, and per step only the batch,
// the optimizer's hyperparameters and two scalars cross. Evaluation
// replays one eval graph, recorded at the training batch size on first
// use; a last, smaller batch is padded.
type GPU struct {
	model *Model
	opt   Optimizer
	batch int
	mgr   *gpu.Manager
	o     Options

	params, grads, buffers, hyper *gpu.Buffer
	slots                         []*gpu.Buffer
	optk                          *layers.OptimizerGPU
	train, eval                   *gpuGraph
	step                          int
}

// The hyper buffer: group i's optimizer words at float hyperStride*i, the
// step's dropout seed at float seedAt (storage-buffer offsets are 256-byte
// aligned).
const (
	hyperStride = 64
	seedAt      = 2 * hyperStride
)

// flagAt is the float of a graph's out buffer where the training step's
// finite check leaves its flag: 256 bytes in, an offset every device
// takes for a storage buffer, so that the loss, the count and the flag
// come back in one read.
const flagAt = 64

// NewGPU allocates the model's storage on mgr and records its training
// step for batches of batch. The state starts at zero: set it with
// SetState (e.g. Model.Init).
func NewGPU(mgr *gpu.Manager, m *Model, opt Optimizer, batch int, o Options) (*GPU, error) {
	if err := checkExecutor(m, opt, batch); err != nil {
		return nil, err
	}
	if o.Conv == 0 {
		// The default reads VKNN_CONV: a value naming no version is an error.
		if _, err := layers.EnvConvVersion(); err != nil {
			return nil, err
		}
		o.Conv = layers.DefaultConvVersion(mgr.Info())
	}
	e := &GPU{model: m, opt: opt, batch: batch, mgr: mgr, o: o}
	if err := e.init(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *GPU) init() error {
	var err error
	alloc := func(floats int) *gpu.Buffer {
		if err != nil {
			return nil
		}
		var b *gpu.Buffer
		b, err = e.mgr.NewBuffer(uint64(4 * max(floats, 1)))
		return b
	}
	m := e.model
	e.params, e.grads, e.buffers, e.hyper = alloc(m.NParam), alloc(m.NParam), alloc(m.NBuffer), alloc(seedAt+hyperStride)
	for range e.opt.Slots() {
		e.slots = append(e.slots, alloc(m.NParam))
	}
	if err != nil {
		return err
	}
	if e.optk, err = e.opt.newGPU(e.mgr); err != nil {
		return err
	}
	// Zero everything once: the alignment gaps between tensors are never
	// written by a kernel but are swept by the flat optimizer update.
	zero, err := e.mgr.NewSequence(gpu.SequenceOptions{})
	if err != nil {
		return err
	}
	for _, b := range append([]*gpu.Buffer{e.params, e.grads, e.buffers, e.hyper}, e.slots...) {
		zero.Fill(b, 0)
	}
	err = zero.Submit()
	zero.Close()
	if err != nil {
		return err
	}
	e.train, err = e.newGraph(e.batch, true)
	return err
}

// Close releases the executor's device memory and recordings.
func (e *GPU) Close() error {
	for _, g := range []*gpuGraph{e.train, e.eval} {
		if g != nil {
			g.close()
		}
	}
	for _, b := range append([]*gpu.Buffer{e.params, e.grads, e.buffers, e.hyper}, e.slots...) {
		if b != nil {
			b.Free()
		}
	}
	e.eval, e.train, e.slots = nil, nil, nil
	e.params, e.grads, e.buffers, e.hyper = nil, nil, nil, nil
	return nil
}

// Step trains on one batch with learning rate lr and returns its mean
// loss and the number of correct predictions (before the update). The
// loss is NaN where the step left a parameter, buffer (running
// statistics) or optimizer slot infinite or NaN, whatever the loss kernel
// computed.
func (e *GPU) Step(images []float32, labels []int32, lr float64) (float64, int, error) {
	if e.train == nil {
		return 0, 0, errors.New("nn: the executor is closed")
	}
	if err := e.model.checkBatch(images, labels, e.batch); err != nil {
		return 0, 0, err
	}
	t := e.step + 1
	words := make([]float32, seedAt)
	for i, gr := range e.model.groups() {
		w := e.opt.words(lr, t, gr.decay)
		copy(words[i*hyperStride:], w[:])
	}
	if err := e.hyper.WriteFloat32(words); err != nil {
		return 0, 0, err
	}
	if err := e.hyper.Write(4*seedAt, binary.LittleEndian.AppendUint32(nil, stepSeed(e.o.Seed, t))); err != nil {
		return 0, 0, err
	}
	loss, correct, err := e.train.run(images, labels)
	if err == nil {
		e.step = t
	}
	return loss, correct, err
}

// logits runs the eval graph (recorded once, at the training batch size)
// on n <= batch images, the rest of the batch zeros: in eval mode each
// image's logits depend on that image only.
func (e *GPU) logits(x []float32, n int) ([]float32, error) {
	if e.train == nil {
		return nil, errors.New("nn: the executor is closed")
	}
	if e.eval == nil {
		g, err := e.newGraph(e.batch, false)
		if err != nil {
			return nil, err
		}
		e.eval = g
	}
	if n < e.batch {
		x = append(x[:n*e.model.Input.Len():n*e.model.Input.Len()], make([]float32, (e.batch-n)*e.model.Input.Len())...)
	}
	if err := e.eval.images.WriteFloat32(x); err != nil {
		return nil, err
	}
	if err := e.eval.seq.Submit(); err != nil {
		return nil, err
	}
	z := make([]float32, n*e.model.Classes)
	return z, e.eval.act(e.model.g.out).ReadFloat32(z)
}

// Eval runs the network in eval mode on any number of images, in batches
// of the training batch's size, and returns the mean loss and the number
// of correct predictions (computed on the host from the logits).
func (e *GPU) Eval(images []float32, labels []int32) (float64, int, error) {
	return evalBatches(e.model, e.batch, images, labels, e.logits)
}

// Predict returns the logits (images x Classes) of the network in eval
// mode.
func (e *GPU) Predict(images []float32) ([]float32, error) {
	return predictBatches(e.model, e.batch, images, e.logits)
}

// Timings is the device time of each dispatch of the last training step,
// with Options.Profile.
func (e *GPU) Timings() ([]gpu.Timing, error) {
	if e.train == nil {
		return nil, errors.New("nn: the executor is closed")
	}
	return e.train.seq.Timings()
}

// State downloads the parameters, gradients, buffers and optimizer state.
func (e *GPU) State() (*State, error) {
	if e.train == nil {
		return nil, errors.New("nn: the executor is closed")
	}
	m := e.model
	st := &State{Params: make([]float32, m.NParam), Grads: make([]float32, m.NParam), Buffers: make([]float32, m.NBuffer), Step: e.step}
	err := errors.Join(e.params.ReadFloat32(st.Params), e.grads.ReadFloat32(st.Grads), e.buffers.ReadFloat32(st.Buffers))
	for _, b := range e.slots {
		s := make([]float32, m.NParam)
		err = errors.Join(err, b.ReadFloat32(s))
		st.Slots = append(st.Slots, s)
	}
	return st, err
}

// SetState uploads st; missing gradients and optimizer state become zeros.
func (e *GPU) SetState(st *State) error {
	if e.train == nil {
		return errors.New("nn: the executor is closed")
	}
	if err := e.model.checkState(st, e.opt); err != nil {
		return err
	}
	st = e.model.complete(st.clone(), e.opt)
	err := errors.Join(e.params.WriteFloat32(st.Params), e.grads.WriteFloat32(st.Grads), e.buffers.WriteFloat32(st.Buffers))
	for i, b := range e.slots {
		err = errors.Join(err, b.WriteFloat32(st.Slots[i]))
	}
	if err == nil {
		e.step = st.Step
	}
	return err
}

// gpuGraph is the network's activations, gradients and lowered ops for
// one batch size, with the sequence recorded on them: a training step, or
// an eval-mode forward pass with the loss.
type gpuGraph struct {
	e     *GPU
	batch int
	train bool
	seq   *gpu.Sequence
	add   *layers.Add

	images, labels, out *gpu.Buffer // out: the loss, the correct count, and at flagAt the finite check's flag
	acts, grads         map[Value]*gpu.Buffer
	begun               map[Value]bool  // gradient written by a backward pass so far
	alias               map[Value]Value // outputs that are their input
	bufs                []*gpu.Buffer
	frees               []interface{ Free() }
	pools               map[*node]*layers.PoolGPU // for Decisions
}

// recordError carries an allocation failure out of the recording.
type recordError struct{ err error }

// newGraph allocates and records a graph for batches of batch: the
// training step, or the eval-mode forward pass to the logits.
func (e *GPU) newGraph(batch int, train bool) (*gpuGraph, error) {
	g := &gpuGraph{e: e, batch: batch, train: train, acts: map[Value]*gpu.Buffer{}, grads: map[Value]*gpu.Buffer{},
		begun: map[Value]bool{}, alias: map[Value]Value{}, pools: map[*node]*layers.PoolGPU{}}
	if err := g.recordAll(); err != nil {
		g.close()
		return nil, fmt.Errorf("nn: recording %s at batch %d: %w", e.model.Name, batch, err)
	}
	return g, nil
}

// recordAll records the graph, turning an allocation failure in it
// (newBuf) into an error.
func (g *gpuGraph) recordAll() (err error) {
	defer func() {
		if r := recover(); r != nil {
			re, ok := r.(recordError)
			if !ok {
				panic(r)
			}
			err = re.err
		}
	}()
	if err := g.record(); err != nil {
		return err
	}
	return g.seq.End()
}

func (g *gpuGraph) record() error {
	e, mg := g.e, g.e.model.g
	g.images = g.newBuf(g.batch * e.model.Input.Len())
	g.labels = g.newBuf(g.batch)
	g.out = g.newBuf(flagAt + 1)
	g.acts[0] = g.images
	var err error
	if g.add, err = layers.NewAdd(e.mgr); err != nil {
		return err
	}
	if g.seq, err = e.mgr.NewSequence(gpu.SequenceOptions{Timestamps: e.o.Profile && g.train}); err != nil {
		return err
	}
	steps := mg.plan()
	ops := make([]gpuOp, len(steps))
	for i := range steps {
		s := &steps[i]
		if a, ok := s.n.op.(aliaser); ok && a.alias(g.train) {
			g.alias[s.out] = g.resolve(s.n.in[0])
			ops[i] = nothing{}
			continue
		}
		if ops[i], err = s.n.op.lower(g, s); err != nil {
			return fmt.Errorf("nn: %s (%s): %w", s.n.name, s.n.op.kind(), err)
		}
	}
	for i, s := range steps {
		g.seq.Section(s.n.name)
		ops[i].forward(g.seq)
	}
	logits := g.act(mg.out)
	if !g.train {
		return nil
	}
	ce, err := layers.NewSoftmaxCEGPU(e.mgr, g.batch, e.model.Classes)
	if err != nil {
		return err
	}
	g.seq.Section("loss")
	dz, done := g.gradWrite(mg.out)
	ce.Record(g.seq, logits, g.labels, dz, g.out)
	done()
	for i := len(steps) - 1; i >= 0; i-- {
		if mg.needsGrad[steps[i].out] {
			g.seq.Section(steps[i].n.name + ".backward")
			ops[i].backward(g)
		}
	}
	g.seq.Section("optimizer")
	groups := e.model.groups()
	if !e.opt.splits() {
		groups = []group{{0, e.model.NParam, true}}
	}
	for i, gr := range groups {
		n := uint64(4 * (gr.to - gr.from))
		slots := make([]gpu.Arg, len(e.slots))
		for j, b := range e.slots {
			slots[j] = b.Slice(uint64(4*gr.from), n)
		}
		e.optk.Record(g.seq, gr.to-gr.from, e.params.Slice(uint64(4*gr.from), n), e.grads.Slice(uint64(4*gr.from), n),
			slots, e.hyper.Slice(uint64(4*i*hyperStride), 4*layers.HyperWords))
	}
	// A diverged step is not always seen in the loss: GLSL's max (a
	// ReLU) may turn NaN into 0, and a network full of NaN weights then
	// reports a finite loss. run reports NaN where the state is not finite.
	g.seq.Section("finite")
	finite, err := layers.NewFiniteGPU(e.mgr)
	if err != nil {
		return err
	}
	spans := []layers.Span{{X: e.params, N: e.model.NParam}, {X: e.buffers, N: e.model.NBuffer}}
	for _, b := range e.slots {
		spans = append(spans, layers.Span{X: b, N: e.model.NParam})
	}
	finite.Record(g.seq, g.out.Slice(4*flagAt, 4), spans...)
	return nil
}

// run uploads a batch, replays the training graph and returns the loss
// and the number of correct predictions.
func (g *gpuGraph) run(images []float32, labels []int32) (float64, int, error) {
	if err := g.images.WriteFloat32(images); err != nil {
		return 0, 0, err
	}
	if err := g.labels.WriteInt32(labels); err != nil {
		return 0, 0, err
	}
	if err := g.seq.Submit(); err != nil {
		return 0, 0, err
	}
	var out [flagAt + 1]float32 // one read: on a discrete GPU, one staged copy
	if err := g.out.ReadFloat32(out[:]); err != nil {
		return 0, 0, err
	}
	if math.Float32bits(out[flagAt]) != 0 {
		return math.NaN(), int(out[1]), nil
	}
	return float64(out[0]), int(out[1]), nil
}

func (g *gpuGraph) close() {
	if g.seq != nil {
		g.seq.Close()
	}
	for _, f := range g.frees {
		f.Free()
	}
	for _, b := range g.bufs {
		b.Free()
	}
	g.frees, g.bufs = nil, nil
}

// newBuf allocates a buffer of n floats that the graph owns; a failure
// ends the recording (newGraph returns it).
func (g *gpuGraph) newBuf(n int) *gpu.Buffer {
	b, err := g.e.mgr.NewBuffer(uint64(4 * max(n, 1)))
	if err != nil {
		panic(recordError{err})
	}
	g.bufs = append(g.bufs, b)
	return b
}

// own makes the graph free f (a layer's scratch) when it closes.
func (g *gpuGraph) own(f interface{ Free() }) { g.frees = append(g.frees, f) }

func (g *gpuGraph) resolve(v Value) Value {
	if a, ok := g.alias[v]; ok {
		return a
	}
	return v
}

func (g *gpuGraph) shape(v Value) layers.Shape { return g.e.model.g.values[v].shape.batch(g.batch) }
func (g *gpuGraph) needs(v Value) bool         { return g.e.model.g.needsGrad[v] }
func (g *gpuGraph) mgr() *gpu.Manager          { return g.e.mgr }

// act is the activation buffer of v.
func (g *gpuGraph) act(v Value) *gpu.Buffer { return g.lazy(g.acts, v) }

// grad is the gradient buffer of v.
func (g *gpuGraph) grad(v Value) *gpu.Buffer { return g.lazy(g.grads, v) }

// lazy is v's buffer in m, allocated on first use.
func (g *gpuGraph) lazy(m map[Value]*gpu.Buffer, v Value) *gpu.Buffer {
	v = g.resolve(v)
	if b, ok := m[v]; ok {
		return b
	}
	b := g.newBuf(g.shape(v).Len())
	m[v] = b
	return b
}

// unaryLayer is a GPU layer from x to y whose backward pass writes dx
// from dy (pooling).
type unaryLayer interface {
	Forward(s *gpu.Sequence, x, y gpu.Arg)
	Backward(s *gpu.Sequence, dy, dx gpu.Arg)
}

// unaryGPU is the gpuOp of a unaryLayer.
type unaryGPU struct {
	n    *node
	l    unaryLayer
	x, y gpu.Arg
}

func (g *gpuGraph) unary(s *step, l unaryLayer) *unaryGPU {
	return &unaryGPU{n: s.n, l: l, x: g.act(s.n.in[0]), y: g.act(s.out)}
}

func (u *unaryGPU) forward(s *gpu.Sequence) { u.l.Forward(s, u.x, u.y) }

func (u *unaryGPU) backward(g *gpuGraph) {
	dx, done := g.gradWrite(u.n.in[0])
	u.l.Backward(g.seq, g.grad(u.n.out), dx)
	done()
}

// slice is p's range of flat storage b.
func slice(b *gpu.Buffer, p *Param) gpu.Slice { return b.Slice(uint64(4*p.Offset), uint64(4*p.Len)) }

func (g *gpuGraph) param(p *Param) gpu.Slice  { return slice(g.e.params, p) }
func (g *gpuGraph) pgrad(p *Param) gpu.Slice  { return slice(g.e.grads, p) }
func (g *gpuGraph) buffer(p *Param) gpu.Slice { return slice(g.e.buffers, p) }
func (g *gpuGraph) seed() gpu.Slice           { return g.e.hyper.Slice(4*seedAt, 4) }

// gradWrite is where a backward pass that writes (not adds) the gradient
// of v puts it: v's gradient buffer if nothing has written it yet, else a
// scratch buffer that done adds to it. When v needs no gradient, a scratch
// buffer that done leaves alone.
func (g *gpuGraph) gradWrite(v Value) (dst gpu.Arg, done func()) {
	if !g.needs(v) {
		return g.newBuf(g.shape(v).Len()), func() {}
	}
	v = g.resolve(v)
	if !g.begun[v] {
		g.begun[v] = true
		return g.grad(v), func() {}
	}
	tmp := g.newBuf(g.shape(v).Len())
	return tmp, func() { g.add.Record(g.seq, g.shape(v).Len(), 1, tmp, g.grad(v)) }
}

// gradAccum is v's gradient buffer for a backward pass that adds to it,
// zeroed first if nothing has written it yet.
func (g *gpuGraph) gradAccum(v Value) gpu.Arg {
	if !g.needs(v) {
		return g.newBuf(g.shape(v).Len())
	}
	v = g.resolve(v)
	if !g.begun[v] {
		g.begun[v] = true
		g.seq.Fill(g.grad(v), 0)
	}
	return g.grad(v)
}

// gradAddFrom adds src to v's gradient (a copy when it is the first).
func (g *gpuGraph) gradAddFrom(v Value, src gpu.Arg) {
	if !g.needs(v) {
		return
	}
	v = g.resolve(v)
	if !g.begun[v] {
		g.begun[v] = true
		g.seq.Copy(src, g.grad(v))
		return
	}
	g.add.Record(g.seq, g.shape(v).Len(), 1, src, g.grad(v))
}
