package nn

import (
	"errors"
	"math"
)

// Decisions are the discrete choices of a training step's forward pass:
// which ReLU inputs were positive and which element won each max-pool
// window. Where an input lies within rounding of a tie, the GPU and the
// CPU reference can choose differently, and the one different choice
// then changes every gradient before it; deep nets meet such ties often
// (VGG-19, batch 4: one step in two). To hold the two paths to each other
// at the precision of everything else, the CPU can follow the GPU's
// decisions (CPU.Follow), as the layer tests take the GPU's ReLU mask, but
// only at near-ties: where the two choices' values differ by more than
// TieTolerance of the tensor's root mean square it keeps its own and
// counts a hard mismatch (CPU.Flips), which a bug shows as.
type Decisions struct {
	g     *graph
	batch int
	masks map[*node][]bool
	args  map[*node][]int32
}

// TieTolerance is how close, relative to the root mean square of a
// ReLU's or max pool's input, two choices must be for the CPU to follow
// the GPU's: 1e-3, against GPU-CPU differences of about 1e-5 of that
// deep in VGG-19.
const TieTolerance = 1e-3

// Decisions downloads the decisions of the last training step.
func (e *GPU) Decisions() (*Decisions, error) {
	if e.train == nil {
		return nil, errors.New("nn: the executor is closed")
	}
	g := e.train
	d := &Decisions{g: e.model.g, batch: e.batch, masks: map[*node][]bool{}, args: map[*node][]int32{}}
	for _, n := range e.model.g.nodes {
		switch o := n.op.(type) {
		case reluOp:
			y := make([]float32, g.shape(n.out).Len())
			if err := g.act(n.out).ReadFloat32(y); err != nil {
				return nil, err
			}
			m := make([]bool, len(y))
			for i, v := range y {
				m[i] = v > 0
			}
			d.masks[n] = m
		case poolOp:
			if !o.p.Max {
				continue
			}
			arg := make([]int32, g.shape(n.out).Len())
			if err := g.pools[n].ReadArgmax(arg); err != nil {
				return nil, err
			}
			d.args[n] = arg
		}
	}
	return d, nil
}

// Follow makes the next Step take d's decisions at near-ties (d must be of
// the same model and batch size: Step refuses others).
func (c *CPU) Follow(d *Decisions) { c.follow = d }

// Flips tells, of the last Step's decisions, how many of its own went the
// other way at a near-tie and were replaced by the ones followed (flips),
// how many differed by more (hard: kept its own), and how many it took.
func (c *CPU) Flips() (flips, hard, total int) { return c.flips, c.hard, c.decided }

// decideMask is node n's ReLU decision at i for input v: its own
// (v > 0), or at a near-tie (|v| within tol) the one it follows.
func (r *cpuRun) decideMask(n *node, i int, v, tol float32) bool {
	own := v > 0
	if r.follow == nil || r.follow.masks[n] == nil {
		return own
	}
	return decide(r.c, r.follow.masks[n][i] != own, abs(v) <= tol, r.follow.masks[n][i], own)
}

// decideArg is node n's max-pool winner at i: its own (the first
// maximum), or at a near-tie the one it follows.
func (r *cpuRun) decideArg(n *node, i int, x []float32, own int32, tol float32) int32 {
	if r.follow == nil || r.follow.args[n] == nil {
		return own
	}
	f := r.follow.args[n][i]
	return decide(r.c, f != own, f >= 0 && int(f) < len(x) && abs(x[own]-x[f]) <= tol, f, own)
}

// decide counts a decision and returns the followed one where the two
// differ at a near-tie, else its own.
func decide[T any](c *CPU, differ, near bool, followed, own T) T {
	c.decided++
	switch {
	case !differ:
		return own
	case near:
		c.flips++
		return followed
	}
	c.hard++
	return own
}

func abs(x float32) float32 { return max(x, -x) }

// tieTol is TieTolerance of the root mean square of x.
func tieTol(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return float32(TieTolerance * math.Sqrt(s/float64(max(len(x), 1))))
}
