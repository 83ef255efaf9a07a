package nn

// step is one node as the GPU runs it. A batch norm absorbs what follows
// it when nothing else reads the values in between: an Add (the residual
// sum, res its other input) and a ReLU, in one pair of kernels each way
// (layers.BatchNormGPU), so that a model author gets today's fusions
// without asking for them.
type step struct {
	n    *node
	out  Value // the output after fusion
	res  Value // a batch norm's fused residual input, or -1
	relu bool  // a batch norm's fused ReLU
}

// plan lists the steps in an order the GPU can run them: a fused batch
// norm takes the place of the last node it absorbs, by which point its
// residual input is ready.
func (g *graph) plan() []step {
	absorbed := map[*node]bool{}
	at := map[*node]step{} // fused steps, by the node whose place they take
	var steps []step
	for _, n := range g.nodes {
		if s, ok := at[n]; ok {
			steps = append(steps, s)
			continue
		}
		if absorbed[n] {
			continue
		}
		s := step{n: n, out: n.out, res: -1}
		last := n
		if _, ok := n.op.(*bnOp); ok {
			if a := g.only(s.out, "Add"); a != nil && g.takesAdd(n, a) {
				s.res, s.out, last = a.in[0], a.out, a
				if s.res == n.out {
					s.res = a.in[1]
				}
				absorbed[a] = true
			}
			if r := g.only(s.out, "ReLU"); r != nil {
				s.relu, s.out, last = true, r.out, r
				absorbed[r] = true
			}
		}
		if last != n {
			at[last] = s
			continue
		}
		steps = append(steps, s)
	}
	return steps
}

// takesAdd tells whether batch norm n absorbs the Add a it feeds: when
// a adds two values and n gives the first, or the first is not a batch
// norm's that could take it (of a residual block's body and a projection
// shortcut, both ending in a batch norm, the body's takes the add).
func (g *graph) takesAdd(n, a *node) bool {
	if a.in[0] == a.in[1] {
		return false
	}
	if a.in[0] == n.out {
		return true
	}
	first := g.producer[a.in[0]]
	if first == nil {
		return true
	}
	_, isBN := first.op.(*bnOp)
	return !isBN || g.only(a.in[0], "Add") != a
}

// only returns v's one consumer if it is of the given kind and v is not
// the network's output.
func (g *graph) only(v Value, kind string) *node {
	if v == g.out || len(g.consumers[v]) != 1 || g.consumers[v][0].op.kind() != kind {
		return nil
	}
	return g.consumers[v][0]
}
