package nn

import "github.com/vknn/vknn/layers"

// Layer is one operation of a model as an exporter sees it: its kind, its
// module's name, its inputs and output, its parameters and buffers (in
// PyTorch's order: a convolution's weight and bias; a batch norm's weight,
// bias, running mean and running variance; a linear layer's weight and
// bias) and its settings.
type Layer struct {
	Name    string
	Kind    string // Conv2D, BatchNorm2D, ReLU, MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten, Linear, Dropout, ShortcutA, Add
	In      []Value
	Out     Value
	Tensors []*Param

	Conv     layers.Conv2D    // Conv2D
	Pool     layers.Pool2D    // MaxPool2D, AvgPool2D
	BN       layers.BN        // BatchNorm2D
	Shortcut layers.ShortcutA // ShortcutA
	Dropout  layers.Dropout   // Dropout
}

// Layers lists the model's operations in an order that computes each
// value before it is read. Value 0 is the input; Output is the logits.
func (m *Model) Layers() []Layer {
	out := make([]Layer, 0, len(m.g.nodes))
	for _, n := range m.g.nodes {
		l := Layer{Name: n.name, Kind: n.op.kind(), In: append([]Value(nil), n.in...), Out: n.out}
		switch o := n.op.(type) {
		case *convOp:
			l.Conv, l.Tensors = o.c, o.params()
		case *bnOp:
			l.BN, l.Tensors = o.bn, []*Param{o.gamma, o.beta, o.mean, o.vari}
		case *linearOp:
			l.Tensors = o.params()
		case poolOp:
			l.Pool = o.p
		case shortcutAOp:
			l.Shortcut = o.a
		case dropoutOp:
			l.Dropout = o.d
		}
		out = append(out, l)
	}
	return out
}

// Output is the value of the model's logits.
func (m *Model) Output() Value { return m.g.out }

// ValueShape is the shape of one sample of v.
func (m *Model) ValueShape(v Value) Shape { return m.g.values[v].shape }
