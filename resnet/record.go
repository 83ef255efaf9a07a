package resnet

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// recorder walks the model, allocating a graph's buffers and recording
// its forward pass, the loss and (when training) the backward pass and the
// SGD update into the graph's sequence. The first error stops it.
type recorder struct {
	g     *graph
	train bool
	err   error
}

func (r *recorder) buf(n int) *gpu.Buffer {
	if r.err != nil {
		return nil
	}
	b, err := r.g.t.Mgr.NewBuffer(uint64(4 * max(n, 1)))
	r.err = err
	r.g.bufs = append(r.g.bufs, b)
	return b
}

func (r *recorder) section(name string) { r.g.seq.Section(name) }

// conv records conv c on x (shape in) into a new buffer.
func (r *recorder) conv(name string, c convRef, x *gpu.Buffer, in layers.Shape) (*gpu.Buffer, layers.Shape) {
	if r.err != nil {
		return nil, layers.Shape{}
	}
	g, err := layers.NewConvGPU(r.g.t.Mgr, c.Conv, in, layers.DefaultConvVersion(r.g.t.Mgr.Info()))
	if err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
		return nil, layers.Shape{}
	}
	y := r.buf(g.Out.Len())
	if r.err != nil {
		return nil, layers.Shape{}
	}
	t, s := r.g.t, r.g.seq
	r.section(name)
	g.Forward(s, x, t.param(c.Weight), nil, y)
	r.g.convs[name] = g
	return y, g.Out
}

// convBackward records dw and, when dx is not nil, dx for the conv name.
func (r *recorder) convBackward(name string, c convRef, x, dy, dx *gpu.Buffer) {
	g := r.g.convs[name]
	t, s := r.g.t, r.g.seq
	r.section(name + ".backward")
	g.BackwardWeights(s, x, dy, t.grad(c.Weight), nil)
	if dx != nil {
		g.BackwardData(s, dy, t.param(c.Weight), dx)
	}
}

// bnState is what a batch norm's backward pass needs.
type bnState struct {
	ref      bnRef
	layer    *layers.BatchNormGPU
	args     layers.BNArgs
	residual bool
	x, y     *gpu.Buffer
	shape    layers.Shape
	name     string
}

// bn records y = [relu](bn(x) [+ res]) into a new buffer.
func (r *recorder) bn(name string, ref bnRef, x *gpu.Buffer, in layers.Shape, relu bool, res *gpu.Buffer) *bnState {
	if r.err != nil {
		return nil
	}
	layer, err := layers.NewBatchNormGPU(r.g.t.Mgr, in, relu, res != nil)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
		return nil
	}
	t := r.g.t
	st := &bnState{ref: ref, layer: layer, residual: res != nil, x: x, shape: in, name: name}
	st.y = r.buf(in.Len())
	mean, invstd := r.buf(in.C), r.buf(in.C)
	if r.err != nil {
		return nil
	}
	st.args = layers.BNArgs{X: x, Y: st.y, Gamma: t.param(ref.Gamma), Beta: t.param(ref.Beta),
		RunMean: t.stat(ref.RunMean), RunVar: t.stat(ref.RunVar), Mean: mean, Invstd: invstd}
	if res != nil {
		st.args.Res = res
	}
	r.section(name)
	if r.train {
		layer.ForwardTrain(r.g.seq, st.args)
	} else {
		layer.ForwardEval(r.g.seq, st.args)
	}
	return st
}

// bnBackward records the batch norm's backward from dy, returning dx (and
// the residual's gradient when it has one).
func (r *recorder) bnBackward(st *bnState, dy *gpu.Buffer) (dx, dres *gpu.Buffer) {
	dx = r.buf(st.shape.Len())
	if st.residual {
		dres = r.buf(st.shape.Len())
	}
	if r.err != nil {
		return nil, nil
	}
	t := r.g.t
	grads := layers.BNGrads{DY: dy, DX: dx, DGamma: t.grad(st.ref.Gamma), DBeta: t.grad(st.ref.Beta)}
	if dres != nil {
		grads.DRes = dres
	}
	r.section(st.name + ".backward")
	st.layer.Backward(r.g.seq, st.args, grads)
	return dx, dres
}

// block records a basic block's forward pass and pushes its backward.
func (r *recorder) block(i int, b Block, a *gpu.Buffer, in layers.Shape) (*gpu.Buffer, layers.Shape, func(dOut *gpu.Buffer) *gpu.Buffer) {
	name := fmt.Sprintf("block%d", i)
	c1, s1 := r.conv(name+".conv1", b.Conv1, a, in)
	bn1 := r.bn(name+".bn1", b.BN1, c1, s1, true, nil)
	if r.err != nil {
		return nil, layers.Shape{}, nil
	}
	c2, s2 := r.conv(name+".conv2", b.Conv2, bn1.y, s1)
	var sc, cs *gpu.Buffer
	var scA *layers.ShortcutAGPU
	var bnP *bnState
	switch b.Shortcut {
	case 0:
		sc = a
	case 'A':
		var err error
		if scA, err = layers.NewShortcutAGPU(r.g.t.Mgr, layers.ShortcutA{In: b.In, Out: b.Out, Stride: b.Stride}, in); err != nil {
			r.err = err
			return nil, layers.Shape{}, nil
		}
		sc = r.buf(scA.Out.Len())
		if r.err == nil {
			r.section(name + ".shortcut")
			scA.Forward(r.g.seq, a, sc)
		}
	case 'B':
		var sp layers.Shape
		cs, sp = r.conv(name+".proj", b.ProjConv, a, in)
		bnP = r.bn(name+".projbn", b.ProjBN, cs, sp, false, nil)
		if bnP != nil {
			sc = bnP.y
		}
	}
	bn2 := r.bn(name+".bn2", b.BN2, c2, s2, true, sc)
	if r.err != nil {
		return nil, layers.Shape{}, nil
	}
	backward := func(dOut *gpu.Buffer) *gpu.Buffer {
		dc2, dsc := r.bnBackward(bn2, dOut)
		dy1 := r.buf(s1.Len())
		if r.err != nil {
			return nil
		}
		r.convBackward(name+".conv2", b.Conv2, bn1.y, dc2, dy1)
		dc1, _ := r.bnBackward(bn1, dy1)
		dA := r.buf(in.Len())
		if r.err != nil {
			return nil
		}
		r.convBackward(name+".conv1", b.Conv1, a, dc1, dA)
		r.section(name + ".shortcut.backward")
		switch b.Shortcut {
		case 0:
			r.g.add.Record(r.g.seq, in.Len(), 1, dsc, dA)
		case 'A':
			scA.BackwardAdd(r.g.seq, dsc, dA)
		case 'B':
			dcs, _ := r.bnBackward(bnP, dsc)
			tmp := r.buf(in.Len())
			if r.err != nil {
				return nil
			}
			r.convBackward(name+".proj", b.ProjConv, a, dcs, tmp)
			r.g.add.Record(r.g.seq, in.Len(), 1, tmp, dA)
		}
		return dA
	}
	return bn2.y, s2, backward
}

// record records the whole graph.
func (r *recorder) record() {
	t, g, m := r.g.t, r.g, r.g.t.M
	in := layers.Shape{N: g.batch, C: 3, H: 32, W: 32}
	c0, s0 := r.conv("stem.conv", m.Stem, g.images, in)
	bn0 := r.bn("stem.bn", m.StemBN, c0, s0, true, nil)
	if r.err != nil {
		return
	}
	a, shape := bn0.y, s0
	var backs []func(*gpu.Buffer) *gpu.Buffer
	for i, b := range m.Blocks {
		var back func(*gpu.Buffer) *gpu.Buffer
		a, shape, back = r.block(i, b, a, shape)
		if r.err != nil {
			return
		}
		backs = append(backs, back)
	}
	pool, err := layers.NewGlobalPoolGPU(t.Mgr, shape)
	if err != nil {
		r.err = err
		return
	}
	fc, err := layers.NewLinearGPU(t.Mgr, layers.Linear{In: 64, Out: m.Cfg.Classes}, g.batch)
	if err != nil {
		r.err = err
		return
	}
	ce, err := layers.NewSoftmaxCEGPU(t.Mgr, g.batch, m.Cfg.Classes)
	if err != nil {
		r.err = err
		return
	}
	pooled, logits, dlogits := r.buf(g.batch*64), r.buf(g.batch*m.Cfg.Classes), r.buf(g.batch*m.Cfg.Classes)
	if r.err != nil {
		return
	}
	r.section("head")
	pool.Forward(g.seq, a, pooled)
	fc.Forward(g.seq, pooled, t.param(m.FCW), t.param(m.FCB), logits)
	r.section("loss")
	ce.Record(g.seq, logits, g.labels, dlogits, g.out)
	if !r.train {
		return
	}

	dpooled, dA := r.buf(g.batch*64), r.buf(shape.Len())
	if r.err != nil {
		return
	}
	r.section("head.backward")
	fc.Backward(g.seq, pooled, t.param(m.FCW), dlogits, dpooled, t.grad(m.FCW), t.grad(m.FCB))
	pool.Backward(g.seq, dpooled, dA)
	for i := len(backs) - 1; i >= 0 && r.err == nil; i-- {
		dA = backs[i](dA)
	}
	if r.err != nil {
		return
	}
	dc0, _ := r.bnBackward(bn0, dA)
	if r.err != nil {
		return
	}
	r.convBackward("stem.conv", m.Stem, g.images, dc0, nil)
	r.section("sgd")
	t.sgd.Record(g.seq, t.params, t.grads, t.mom)
}
