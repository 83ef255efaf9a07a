package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/vknn/vknn/layers"
)

// Shape is the shape of one sample: C channels of H x W (a vector of
// length n is n x 1 x 1). The batch size is chosen when a graph is built.
type Shape struct{ C, H, W int }

// Len is the number of floats of one sample.
func (s Shape) Len() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

func (s Shape) valid() error {
	if s.C <= 0 || s.H <= 0 || s.W <= 0 {
		return fmt.Errorf("shape %v has a dimension that is not positive", s)
	}
	return nil
}

// batch is the layers' NCHW shape of n samples.
func (s Shape) batch(n int) layers.Shape { return layers.Shape{N: n, C: s.C, H: s.H, W: s.W} }

// Init fills a parameter's values at initialisation.
type Init func(rng *rand.Rand, w []float32)

// Param is a named tensor of a model: a trained parameter (with its
// gradient and optimizer state) or a buffer such as a batch norm's running
// statistics. The layer that declares it chooses its name, shape and
// initialisation; the Model places it in a flat buffer.
type Param struct {
	Name   string // the PyTorch state_dict key, e.g. "layer1.0.conv1.weight"
	Shape  []int
	Len    int     // elements
	Offset int     // in floats, in the model's flat parameter or buffer storage
	Decay  bool    // a weight (not a bias or a batch-norm parameter): weight decay applies
	Init   Init    // parameters: how they start (nil: zeros)
	Fill   float32 // buffers: the value they start at
}

// Of returns p's elements in flat storage laid out by its model.
func (p *Param) Of(flat []float32) []float32 { return flat[p.Offset:][:p.Len] }

// align keeps every tensor's offset a multiple of 64 floats (256 bytes),
// the largest storage-buffer offset alignment devices ask for.
const align = 64

type value struct {
	shape Shape
}

// node is one operation of the graph: op applied to in, giving out. name
// is the path of the module that added it.
type node struct {
	name string
	op   op
	in   []Value
	out  Value
}

// graph is a network as operations on values; value 0 is the input.
type graph struct {
	values    []value
	nodes     []*node
	out       Value
	params    []*Param
	buffers   []*Param
	needsGrad []bool    // by value: depends on a parameter
	consumers [][]*node // by value
	producer  []*node   // by value (nil for the input)
	index     map[*node]int
}

// Model is a network built from a Module for one input shape: its
// operations, and its parameters and buffers laid out in flat storage
// (parameters with weight decay first, then the others, so that an
// optimizer can treat the two groups apart). The layout fields (Offset,
// NParam, DecayEnd, ...) are set by New; they are for reading.
type Model struct {
	Name    string
	Input   Shape
	Classes int      // the width of the output: the network's logits
	Params  []*Param // trained, in declaration order
	Buffers []*Param // running statistics, in declaration order
	NParam  int      // floats of flat parameter storage (with alignment gaps)
	NBuffer int      // floats of flat buffer storage
	// DecayEnd is where the parameters with weight decay end in flat
	// storage; the others follow.
	DecayEnd int
	// Meta describes the architecture; it is written into checkpoints,
	// and a checkpoint that says otherwise for a key is refused.
	Meta map[string]string

	g *graph
}

// New builds net for inputs of shape in. The network must end in a vector
// (C x 1 x 1, e.g. after Flatten and Linear): the logits of C classes.
func New(name string, net Module, in Shape) (*Model, error) {
	if err := in.valid(); err != nil {
		return nil, fmt.Errorf("nn: input: %w", err)
	}
	g := &graph{values: []value{{shape: in}}}
	b := &Builder{g: g, names: map[string]bool{}}
	g.out = b.Child("", net, 0)
	if b.err != nil {
		return nil, b.err
	}
	g.nodes = b.nodes
	o := g.values[g.out].shape
	if g.out == 0 || o.H != 1 || o.W != 1 || o.C < 1 {
		return nil, fmt.Errorf("nn: %s: the network's output is %v: it must be a vector of logits (end with Flatten and Linear)", name, o)
	}
	if len(g.params) == 0 {
		return nil, fmt.Errorf("nn: %s has no parameters to train", name)
	}
	g.analyse()
	m := &Model{Name: name, Input: in, Classes: o.C, Params: g.params, Buffers: g.buffers, Meta: map[string]string{}, g: g}
	m.layout()
	return m, nil
}

// analyse finds each value's consumers and whether it needs a gradient:
// whether it depends on a parameter and reaches the output (an operation
// whose result the logits do not use is computed, but takes no gradient,
// and its parameters' gradients stay zero).
func (g *graph) analyse() {
	g.consumers = make([][]*node, len(g.values))
	g.needsGrad = make([]bool, len(g.values))
	g.producer = make([]*node, len(g.values))
	g.index = map[*node]int{}
	for i, n := range g.nodes {
		g.index[n] = i
		need := len(n.op.params()) > 0
		for _, v := range n.in {
			g.consumers[v] = append(g.consumers[v], n)
			need = need || g.needsGrad[v]
		}
		g.needsGrad[n.out] = need
		g.producer[n.out] = n
	}
	reaches := make([]bool, len(g.values))
	reaches[g.out] = true
	for i := len(g.nodes) - 1; i >= 0; i-- {
		if n := g.nodes[i]; reaches[n.out] {
			for _, v := range n.in {
				reaches[v] = true
			}
		}
	}
	for v := range g.needsGrad {
		g.needsGrad[v] = g.needsGrad[v] && reaches[v]
	}
}

// layout places the parameters (weights first) and buffers in flat
// storage.
func (m *Model) layout() {
	off := 0
	place := func(p *Param) {
		p.Offset = off
		off += (p.Len + align - 1) / align * align
	}
	for _, decay := range []bool{true, false} {
		for _, p := range m.Params {
			if p.Decay == decay {
				place(p)
			}
		}
		if decay {
			m.DecayEnd = off
		}
	}
	m.NParam, off = off, 0
	for _, p := range m.Buffers {
		place(p)
	}
	m.NBuffer = off
}

// Count is the number of trained parameters.
func (m *Model) Count() int {
	n := 0
	for _, p := range m.Params {
		n += p.Len
	}
	return n
}

// Param returns the parameter or buffer called name, or nil.
func (m *Model) Param(name string) *Param {
	for _, ps := range [][]*Param{m.Params, m.Buffers} {
		for _, p := range ps {
			if p.Name == name {
				return p
			}
		}
	}
	return nil
}

// Init returns a freshly initialised state: every parameter as its layer
// chooses, drawn in declaration order from one generator seeded by seed;
// buffers at their starting values; no optimizer state.
func (m *Model) Init(seed uint64) *State {
	rng := rand.New(rand.NewPCG(seed, 0x7e57))
	st := &State{Params: make([]float32, m.NParam), Buffers: make([]float32, m.NBuffer)}
	for _, p := range m.Params {
		if p.Init != nil {
			p.Init(rng, p.Of(st.Params))
		}
	}
	for _, p := range m.Buffers {
		for i := range p.Of(st.Buffers) {
			p.Of(st.Buffers)[i] = p.Fill
		}
	}
	return st
}

// FLOPs is the forward pass's floating-point operations per sample,
// counted as 2 per multiply-add of the convolutions and linear layers
// (the usual direct count; the other layers are not counted).
func (m *Model) FLOPs() float64 {
	var f float64
	for _, n := range m.g.nodes {
		f += n.op.flops(m.g.shapes(n.in))
	}
	return f
}

func (g *graph) shapes(vs []Value) []Shape {
	s := make([]Shape, len(vs))
	for i, v := range vs {
		s[i] = g.values[v].shape
	}
	return s
}
