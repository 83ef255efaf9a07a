package nn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// describe lists the plan's steps: name, kind, and for batch norms what
// they absorbed.
func describe(m *Model) []string {
	var out []string
	for _, s := range m.g.plan() {
		d := s.n.name + " " + s.n.op.kind()
		if s.res >= 0 {
			d += fmt.Sprintf("+add(%s)", m.g.producer[s.res].name)
		}
		if s.relu {
			d += "+relu"
		}
		out = append(out, d)
	}
	return out
}

// TestPlanFuses: a batch norm absorbs the ReLU after it, and the residual
// add (with the ReLU after that) of the block it ends; of a body and a
// projection shortcut both ending in a batch norm, the body's takes the
// add. Nothing else is fused.
func TestPlanFuses(t *testing.T) {
	in := Shape{C: 4, H: 8, W: 8}
	block := func(sc Module) Module {
		return Residual{Body: Seq(Name("conv1", Conv2D{In: 4, Out: 4, Kernel: 3, Pad: 1}), Name("bn1", BatchNorm2D{C: 4}), Name("", ReLU{}),
			Name("conv2", Conv2D{In: 4, Out: 4, Kernel: 3, Pad: 1}), Name("bn2", BatchNorm2D{C: 4})), Shortcut: sc, ReLU: true}
	}
	head := Seq(Name("pool", GlobalAvgPool{}), Name("flat", Flatten{}), Name("fc", Linear{In: 4, Out: 2}))
	for _, tc := range []struct {
		name string
		sc   Module
		want []string
	}{
		{"identity", nil, []string{"b.conv1 Conv2D", "b.bn1 BatchNorm2D+relu", "b.conv2 Conv2D", "b.bn2 BatchNorm2D+add(a)+relu"}},
		{"option A", ShortcutA{In: 4, Out: 4, Stride: 1}, []string{"b.shortcut ShortcutA", "b.conv1 Conv2D", "b.bn1 BatchNorm2D+relu",
			"b.conv2 Conv2D", "b.bn2 BatchNorm2D+add(b.shortcut)+relu"}},
		{"option B", ShortcutB(4, 4, 1), []string{"b.shortcut.0 Conv2D", "b.shortcut.1 BatchNorm2D",
			"b.conv1 Conv2D", "b.bn1 BatchNorm2D+relu", "b.conv2 Conv2D", "b.bn2 BatchNorm2D+add(b.shortcut.1)+relu"}},
	} {
		m, err := New(tc.name, Seq(Name("a", Conv2D{In: 4, Out: 4, Kernel: 3, Pad: 1}), Name("b", block(tc.sc)), Name("head", head)), in)
		require.NoError(t, err)
		want := append(append([]string{"a Conv2D"}, tc.want...), "head.pool GlobalAvgPool", "head.flat Flatten", "head.fc Linear")
		require.Equal(t, want, describe(m), tc.name)
	}
	// A batch norm read by two operations, or at the output, keeps its own.
	m, err := New("shared", Seq(Conv2D{In: 4, Out: 4, Kernel: 1}, sharedBN{}, Flatten{}, Linear{In: 256, Out: 2}, BatchNorm2D{C: 2}), in)
	require.NoError(t, err)
	require.Equal(t, []string{"0 Conv2D", "1.bn BatchNorm2D", "1 ReLU", "1 Add", "2 Flatten", "3 Linear", "4 BatchNorm2D"}, describe(m))
}

// sharedBN is y = relu(bn(x)) + bn(x): the batch norm's output has two
// readers.
type sharedBN struct{}

func (sharedBN) Build(b *Builder, x Value) Value {
	y := b.Child("bn", BatchNorm2D{C: 4}, x)
	return b.Add(b.Child("", ReLU{}, y), y)
}
