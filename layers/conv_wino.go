package layers

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
)

// winoGPU runs the forward pass and the data gradient of a 3x3, stride-1,
// padding-1 convolution by Winograd F(2x2, 3x3) (conv_wino.comp), the
// weights transformed into a scratch buffer in the same command buffer
// first (conv_wino_weights.comp).
type winoGPU struct {
	weights, weightsFlip, conv *gpu.Kernel
	uf, ub                     *gpu.Buffer // transformed weights: forward, data gradient
	fwdGroups, dgradGroups     gpu.Groups
	fwdPush, dgradPush         []uint32
	c                          Conv2D
	tk                         int // TK of the transformed weights' blocks
}

// winoFits tells whether conv_wino takes conv c on inputs of shape in
// with tiles t: a convolution WinogradApplies to, and the weight
// transform's one-dimensional grid (an invocation per channel pair)
// within the 65,535 workgroups every device allows.
func (t ConvTiles) winoFits(c Conv2D, in Shape) bool {
	if !WinogradApplies(c) || t.WinoTK <= 0 || t.WinoTK%4 != 0 || t.WinoTT <= 0 || c.Check(in) != nil {
		return false
	}
	pairs := max(roundUp(c.Out, t.WinoTK)*c.In, roundUp(c.In, t.WinoTK)*c.Out)
	return (pairs+63)/64 <= 65535
}

// newWinoGPU prepares conv_wino for c on input shape in, for subgroups of
// sg.
func newWinoGPU(ks *kernels, m *gpu.Manager, c Conv2D, in Shape, t ConvTiles, sg, hasBias int) (*winoGPU, error) {
	tk, tt := t.WinoTK, t.WinoTT
	vec := boolSpec(ConvTiles{TP: 2 * tt}.vecRows(c, in, in, 1, sg))
	w := &winoGPU{c: c, tk: tk}
	w.weights = ks.get("conv_wino_weights", "rw", 2, 64, uint32(tk), 0)
	w.weightsFlip = ks.get("conv_wino_weights", "rw", 2, 64, uint32(tk), 1)
	w.conv = ks.get("conv_wino", "rtrwt", 6, uint32(t.Local), uint32(tk), uint32(tt), uint32(sg), vec)
	if ks.err != nil {
		return nil, ks.err
	}
	var err error
	if w.uf, err = m.NewBuffer(uint64(4 * 16 * roundUp(c.Out, tk) * c.In)); err != nil {
		return nil, fmt.Errorf("layers: winograd weights: %w", err)
	}
	if w.ub, err = m.NewBuffer(uint64(4 * 16 * roundUp(c.In, tk) * c.Out)); err != nil {
		w.uf.Free()
		return nil, fmt.Errorf("layers: winograd weights: %w", err)
	}
	tiles := in.N * ((in.H + 1) / 2) * ((in.W + 2*tt - 1) / (2 * tt))
	w.fwdGroups = gpu.Groups{flat(tiles, t.Local)[0], uint32((c.Out + tk - 1) / tk), 1}
	w.dgradGroups = gpu.Groups{flat(tiles, t.Local)[0], uint32((c.In + tk - 1) / tk), 1}
	w.fwdPush = u32(in.N, c.In, in.H, in.W, c.Out, hasBias)
	w.dgradPush = u32(in.N, c.Out, in.H, in.W, c.In, 0)
	return w, nil
}

// forward records y = conv(x, w) + b.
func (w *winoGPU) forward(s *gpu.Sequence, x, wt, b, y gpu.Arg) {
	s.Dispatch(w.weights, flat(roundUp(w.c.Out, w.tk)*w.c.In, 64), u32(w.c.Out, w.c.In), wt, w.uf)
	s.Dispatch(w.conv, w.fwdGroups, w.fwdPush, x, w.uf, b, y, x)
}

// backwardData records dx from dy: conv_wino over dy with the flipped,
// transposed weights.
func (w *winoGPU) backwardData(s *gpu.Sequence, dy, wt, dx gpu.Arg) {
	s.Dispatch(w.weightsFlip, flat(roundUp(w.c.In, w.tk)*w.c.Out, 64), u32(w.c.In, w.c.Out), wt, w.ub)
	s.Dispatch(w.conv, w.dgradGroups, w.dgradPush, dy, w.ub, wt, dx, dy)
}

// roundUp is n rounded up to a multiple of m.
func roundUp(n, m int) int { return (n + m - 1) / m * m }

func (w *winoGPU) free() {
	w.uf.Free()
	w.ub.Free()
}
