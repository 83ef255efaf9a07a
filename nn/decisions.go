package nn

import "errors"

// Decisions are the discrete choices of a training step's forward pass:
// which ReLU inputs were positive and which element won each max-pool
// window. Where an input lies within rounding of a tie, the GPU and the
// CPU reference can choose differently, and the one different choice
// then changes every gradient before it; deep nets meet such ties in
// most steps (VGG-19, batch 4: about one in two). To hold the two paths
// to each other at the precision of everything else, the CPU follows the
// GPU's decisions (CPU.Follow) and counts where its own differ
// (CPU.Flips), as the layer tests take the GPU's ReLU mask.
type Decisions struct {
	masks map[*node][]bool
	args  map[*node][]int32
}

// Decisions downloads the decisions of the last training step.
func (e *GPU) Decisions() (*Decisions, error) {
	if e.train == nil {
		return nil, errors.New("nn: the executor is closed")
	}
	g := e.train
	d := &Decisions{masks: map[*node][]bool{}, args: map[*node][]int32{}}
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

// Follow makes the next Step take d's decisions instead of its own (nil:
// its own again).
func (c *CPU) Follow(d *Decisions) { c.follow = d }

// Flips is how many of the last Step's own decisions differed from those
// it followed, and how many decisions it took in all.
func (c *CPU) Flips() (differed, total int) { return c.flips, c.decided }

// decideMask is node n's ReLU decision at i: its own, or the one it
// follows (counting a difference).
func (r *cpuRun) decideMask(n *node, i int, own bool) bool {
	if r.follow == nil {
		return own
	}
	return decide(r.c, r.follow.masks[n], i, own)
}

// decideArg is node n's max-pool winner at i, likewise.
func (r *cpuRun) decideArg(n *node, i int, own int32) int32 {
	if r.follow == nil {
		return own
	}
	return decide(r.c, r.follow.args[n], i, own)
}

func decide[T comparable](c *CPU, follow []T, i int, own T) T {
	if follow == nil {
		return own
	}
	c.decided++
	if follow[i] != own {
		c.flips++
	}
	return follow[i]
}
