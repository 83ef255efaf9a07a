package nn

import (
	"fmt"
	"math"
)

// Diff is how one tensor of a state differs from its reference.
type Diff struct {
	Name   string  // e.g. "layer1.0.conv1.weight", "grad layer1.0.conv1.weight", "optimizer.momentum.fc.bias"
	RelErr float64 // ‖got−want‖/‖want‖ (+Inf with a NaN or Inf in got)
	// Zero marks a tensor whose reference is zero to rounding: its norm
	// is below 1e-4 of what the root mean square of all tensors of its
	// kind gives a tensor of its size (e.g. the gradient of a
	// convolution's bias that a batch norm cancels). RelErr is then the
	// error's norm over that floor, and Within asks only that it be below
	// it: two roundings of zero are not held to each other.
	Zero bool
}

// Within tells whether the tensor agrees to tol (a zero tensor: whether
// got is zero to rounding too).
func (d Diff) Within(tol float64) bool {
	if d.Zero {
		return d.RelErr < 1
	}
	return d.RelErr < tol
}

func (d Diff) String() string {
	z := ""
	if d.Zero {
		z = " (zero to rounding)"
	}
	return fmt.Sprintf("%s: relative error %.3g%s", d.Name, d.RelErr, z)
}

// Compare holds got against want tensor by tensor: each parameter, its
// gradient, each optimizer slot and each buffer on its own, not one flat
// vector, so that a small tensor's error is not lost among large ones.
func (m *Model) Compare(got, want *State, opt Optimizer) []Diff {
	var out []Diff
	kind := func(prefix string, ps []*Param, g, w []float32) {
		if g == nil && w == nil {
			return
		}
		if len(g) != len(w) {
			out = append(out, Diff{Name: prefix + "(sizes differ)", RelErr: math.Inf(1)})
			return
		}
		var total float64
		n := 0
		for _, p := range ps {
			for _, v := range p.Of(w) {
				total += float64(v) * float64(v)
			}
			n += p.Len
		}
		rms := math.Sqrt(total / float64(max(n, 1)))
		for _, p := range ps {
			out = append(out, diff(prefix+p.Name, p.Of(g), p.Of(w), 1e-4*rms*math.Sqrt(float64(p.Len))))
		}
	}
	kind("", m.Params, got.Params, want.Params)
	kind("grad ", m.Params, got.Grads, want.Grads)
	kind("", m.Buffers, got.Buffers, want.Buffers)
	if opt != nil {
		for i, slot := range opt.Slots() {
			if i < len(got.Slots) && i < len(want.Slots) {
				kind(optimizerPrefix+slot+".", m.Params, got.Slots[i], want.Slots[i])
			}
		}
	}
	return out
}

// diff is one tensor's Diff, with floor the norm below which the
// reference counts as zero.
func diff(name string, got, want []float32, floor float64) Diff {
	var num, den float64
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return Diff{Name: name, RelErr: math.Inf(1)}
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	num, den = math.Sqrt(num), math.Sqrt(den)
	if den <= floor {
		if num == 0 {
			return Diff{Name: name, Zero: true}
		}
		return Diff{Name: name, RelErr: num / floor, Zero: true}
	}
	return Diff{Name: name, RelErr: num / den}
}
