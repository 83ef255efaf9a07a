package resnet

import (
	"fmt"

	"github.com/vknn/vknn/layers"
)

// CPUTrainer trains a model with the layers' CPU references: slow, but
// the yardstick the GPU path is held to.
type CPUTrainer struct {
	M                           *Model
	Batch                       int
	Params, BNState, Grads, Mom []float32
}

// NewCPUTrainer makes a CPU trainer for batches of the given size.
func NewCPUTrainer(m *Model, batch int) (*CPUTrainer, error) {
	if batch < 1 {
		return nil, fmt.Errorf("resnet: batch size %d: must be at least 1", batch)
	}
	return &CPUTrainer{M: m, Batch: batch, Params: make([]float32, m.NParam), BNState: make([]float32, m.NState),
		Grads: make([]float32, m.NParam), Mom: make([]float32, m.NParam)}, nil
}

func (c *CPUTrainer) p(i int) []float32 { t := c.M.Params[i]; return c.Params[t.Offset:][:t.Len] }
func (c *CPUTrainer) g(i int) []float32 { t := c.M.Params[i]; return c.Grads[t.Offset:][:t.Len] }
func (c *CPUTrainer) s(i int) []float32 { t := c.M.State[i]; return c.BNState[t.Offset:][:t.Len] }

// cpuBN is one batch norm's forward record.
type cpuBN struct {
	ref          bnRef
	in           layers.Shape
	x, y         []float32
	mean, invstd []float32
	relu         bool
}

func (c *CPUTrainer) bn(ref bnRef, in layers.Shape, x []float32, relu bool, res []float32, train bool) *cpuBN {
	b := &cpuBN{ref: ref, in: in, x: x, y: make([]float32, in.Len()), relu: relu,
		mean: make([]float32, in.C), invstd: make([]float32, in.C)}
	if train {
		layers.BNForwardTrain(in, x, c.p(ref.Gamma), c.p(ref.Beta), c.s(ref.RunMean), c.s(ref.RunVar), b.y, b.mean, b.invstd)
	} else {
		layers.BNForwardEval(in, x, c.p(ref.Gamma), c.p(ref.Beta), c.s(ref.RunMean), c.s(ref.RunVar), b.y)
	}
	for i := range b.y {
		if res != nil {
			b.y[i] += res[i]
		}
		if relu {
			b.y[i] = max(b.y[i], 0)
		}
	}
	return b
}

// backward returns dx and the gradient reaching the output before the
// batch norm (which is the residual's gradient).
func (c *CPUTrainer) bnBackward(b *cpuBN, dy []float32) (dx, g []float32) {
	g = dy
	if b.relu {
		g = make([]float32, len(dy))
		layers.ReLUBackward(b.y, dy, g)
	}
	dx = make([]float32, b.in.Len())
	layers.BNBackward(b.in, b.x, g, c.p(b.ref.Gamma), b.mean, b.invstd, dx, c.g(b.ref.Gamma), c.g(b.ref.Beta))
	return dx, g
}

func (c *CPUTrainer) conv(ref convRef, in layers.Shape, x []float32) ([]float32, layers.Shape) {
	o := ref.Conv.OutShape(in)
	y := make([]float32, o.Len())
	layers.ConvForward(ref.Conv, in, x, c.p(ref.Weight), nil, y)
	return y, o
}

func (c *CPUTrainer) convBackward(ref convRef, in layers.Shape, x, dy []float32, wantDX bool) []float32 {
	layers.ConvBackwardWeights(ref.Conv, in, x, dy, c.g(ref.Weight), nil)
	if !wantDX {
		return nil
	}
	dx := make([]float32, in.Len())
	layers.ConvBackwardData(ref.Conv, in, c.p(ref.Weight), dy, dx)
	return dx
}

// forward runs the network on a batch and returns the loss, the count of
// correct predictions and, when training, the function that back-propagates.
func (c *CPUTrainer) forward(images []float32, labels []int32, train bool) (float32, int, func()) {
	m, n := c.M, len(labels)
	in := layers.Shape{N: n, C: 3, H: 32, W: 32}
	c0, s0 := c.conv(m.Stem, in, images)
	bn0 := c.bn(m.StemBN, s0, c0, true, nil, train)
	a, shape := bn0.y, s0
	var backs []func([]float32) []float32
	for _, b := range m.Blocks {
		a0, in0 := a, shape
		c1, s1 := c.conv(b.Conv1, in0, a0)
		bn1 := c.bn(b.BN1, s1, c1, true, nil, train)
		c2, s2 := c.conv(b.Conv2, s1, bn1.y)
		var sc []float32
		var bnP *cpuBN
		sa := layers.ShortcutA{In: b.In, Out: b.Out, Stride: b.Stride}
		switch b.Shortcut {
		case 0:
			sc = a0
		case 'A':
			sc = make([]float32, sa.OutShape(in0).Len())
			layers.ShortcutAForward(sa, in0, a0, sc)
		case 'B':
			cs, sp := c.conv(b.ProjConv, in0, a0)
			bnP = c.bn(b.ProjBN, sp, cs, false, nil, train)
			sc = bnP.y
		}
		bn2 := c.bn(b.BN2, s2, c2, true, sc, train)
		a, shape = bn2.y, s2
		b := b
		backs = append(backs, func(dOut []float32) []float32 {
			dc2, dsc := c.bnBackward(bn2, dOut)
			dy1 := c.convBackward(b.Conv2, s1, bn1.y, dc2, true)
			dc1, _ := c.bnBackward(bn1, dy1)
			dA := c.convBackward(b.Conv1, in0, a0, dc1, true)
			switch b.Shortcut {
			case 0:
				for i := range dA {
					dA[i] += dsc[i]
				}
			case 'A':
				layers.ShortcutABackwardAdd(sa, in0, dsc, dA)
			case 'B':
				dcs, _ := c.bnBackward(bnP, dsc)
				tmp := c.convBackward(b.ProjConv, in0, a0, dcs, true)
				for i := range dA {
					dA[i] += tmp[i]
				}
			}
			return dA
		})
	}
	pooled := make([]float32, n*64)
	layers.GlobalAvgPool(shape, a, pooled)
	fc := layers.Linear{In: 64, Out: m.Cfg.Classes}
	logits, dlogits := make([]float32, n*fc.Out), make([]float32, n*fc.Out)
	layers.LinearForward(fc, n, pooled, c.p(m.FCW), c.p(m.FCB), logits)
	loss, correct := layers.SoftmaxCE(n, fc.Out, logits, labels, dlogits)
	backward := func() {
		dpooled := make([]float32, n*64)
		layers.LinearBackward(fc, n, pooled, c.p(m.FCW), dlogits, dpooled, c.g(m.FCW), c.g(m.FCB))
		dA := make([]float32, shape.Len())
		layers.GlobalAvgPoolBackward(shape, dpooled, dA)
		for i := len(backs) - 1; i >= 0; i-- {
			dA = backs[i](dA)
		}
		dc0, _ := c.bnBackward(bn0, dA)
		c.convBackward(m.Stem, in, images, dc0, false)
	}
	return loss, correct, backward
}

// Step trains on one batch and returns its loss and correct count.
func (c *CPUTrainer) Step(images []float32, labels []int32, opt layers.SGD) (float32, int, error) {
	if len(labels) != c.Batch || len(images) != c.Batch*3072 {
		return 0, 0, fmt.Errorf("resnet: batch of %d images and %d labels, want %d", len(images)/3072, len(labels), c.Batch)
	}
	loss, correct, backward := c.forward(images, labels, true)
	backward()
	layers.SGDStep(opt, c.Params, c.Grads, c.Mom)
	return loss, correct, nil
}

// Eval runs the network in eval mode, in batches, and returns the mean
// loss and the number of correct predictions.
func (c *CPUTrainer) Eval(images []float32, labels []int32) (float64, int, error) {
	var loss float64
	correct := 0
	for start := 0; start < len(labels); start += c.Batch {
		b := min(c.Batch, len(labels)-start)
		l, k, _ := c.forward(images[start*3072:(start+b)*3072], labels[start:start+b], false)
		loss += float64(l) * float64(b)
		correct += k
	}
	return loss / float64(max(len(labels), 1)), correct, nil
}

// State returns copies of the parameters, batch-norm state and momentum.
func (c *CPUTrainer) State() (params, state, momentum []float32, err error) {
	return append([]float32(nil), c.Params...), append([]float32(nil), c.BNState...), append([]float32(nil), c.Mom...), nil
}

// SetState sets the parameters, batch-norm state and momentum.
func (c *CPUTrainer) SetState(params, state, momentum []float32) error {
	if len(params) != c.M.NParam || len(state) != c.M.NState || len(momentum) != c.M.NParam {
		return fmt.Errorf("resnet: state of %d/%d/%d floats, model needs %d/%d/%d",
			len(params), len(state), len(momentum), c.M.NParam, c.M.NState, c.M.NParam)
	}
	copy(c.Params, params)
	copy(c.BNState, state)
	copy(c.Mom, momentum)
	return nil
}
