// Package nn describes a network once, as modules composed like
// PyTorch's nn.Module, and derives from that description everything the
// network needs: the GPU training step (forward, loss, backward and
// optimizer, recorded into one command buffer and replayed), the eval
// graph and Predict, the CPU reference executor that the GPU is held to,
// the parameter list that checkpoints are written from, and a summary.
//
// A Module adds operations to a Builder. Layers (Conv2D, BatchNorm2D,
// ReLU, MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten, Linear, Dropout,
// ShortcutA) own their parameters and choose their initialisation;
// Sequential and Residual compose them; a module of one's own composes
// others in its Build, and may use the Builder's Add for small DAGs. New
// makes a Model of a Module and an input shape; NewGPU and NewCPU run it.
//
// Parameter names are the state_dict keys of the equivalent PyTorch
// module: a module's name is its path of child names ("layer1.0.conv1"),
// a Sequential's children are named by their index unless Named.
package nn

import (
	"fmt"
	"strconv"
	"strings"
)

// Module is a piece of a network: a layer or a composition of modules.
// Build adds its operations to b, reading x, and returns its output. It
// reports a bad configuration with b.Fail.
type Module interface {
	Build(b *Builder, x Value) Value
}

// Value is a tensor of the network being built: the input, or the output
// of an operation. Builder.Shape tells its shape.
type Value int

// Named gives a module a name in the Sequential that holds it (PyTorch's
// attribute name, e.g. "conv1"). The name "" puts the module's parameters
// in the Sequential's own namespace.
type Named struct {
	Name string
	Module
}

// Name names a module for a Sequential.
func Name(name string, m Module) Named { return Named{name, m} }

// Build builds the module under its name (wherever it is used: a
// Sequential builds a Named child under the name instead of its index).
func (n Named) Build(b *Builder, x Value) Value { return b.Child(n.Name, n.Module, x) }

// Sequential applies its modules in order, as PyTorch's nn.Sequential:
// each is named by its index ("0", "1", ...) unless it is Named.
type Sequential []Module

// Seq makes a Sequential.
func Seq(ms ...Module) Sequential { return Sequential(ms) }

// Build builds the modules in order.
func (s Sequential) Build(b *Builder, x Value) Value {
	for i, m := range s {
		name := strconv.Itoa(i)
		if n, ok := m.(Named); ok {
			name, m = n.Name, n.Module
		}
		x = b.Child(name, m, x)
	}
	return x
}

// Residual is a residual block: y = Body(x) + Shortcut(x), followed by a
// ReLU when ReLU is set. A nil Shortcut is the identity; a shortcut's
// parameters are named under "shortcut" (PyTorch's CIFAR ResNets), the
// body's in the block's own namespace. On the GPU the body's last batch
// norm absorbs the add and the ReLU.
type Residual struct {
	Body     Module
	Shortcut Module
	ReLU     bool
}

// Build builds the block. The shortcut's operations are placed before the
// body's (its parameters are still declared after the body's, as in
// PyTorch): the backward pass, in reverse order, then reaches x through
// the body first and writes its gradient, and the shortcut adds to it.
func (r Residual) Build(b *Builder, x Value) Value {
	var y Value
	body := b.capture(func() { y = b.Child("", r.Body, x) })
	s := x
	if r.Shortcut != nil {
		b.emit(b.capture(func() { s = b.Child("shortcut", r.Shortcut, x) }))
	}
	b.emit(body)
	y = b.Add(y, s)
	if r.ReLU {
		y = b.Child("", ReLU{}, y)
	}
	return y
}

// Builder collects the operations and parameters of a network while its
// modules build it.
type Builder struct {
	g     *graph
	path  []string
	nodes []*node // where operations go now (see capture)
	names map[string]bool
	err   error
}

// Fail records a configuration error; the first one is what New returns.
func (b *Builder) Fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%s: %s", b.where(), fmt.Sprintf(format, args...))
	}
}

func (b *Builder) where() string {
	if len(b.path) == 0 {
		return "nn"
	}
	return "nn: " + b.prefix()
}

func (b *Builder) prefix() string {
	var parts []string
	for _, p := range b.path {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// Child builds m on x under the name name ("" for no name of its own).
func (b *Builder) Child(name string, m Module, x Value) Value {
	if m == nil {
		b.Fail("module %q is nil", name)
		return x
	}
	b.path = append(b.path, name)
	defer func() { b.path = b.path[:len(b.path)-1] }()
	return m.Build(b, x)
}

// Shape is the shape of one sample of v.
func (b *Builder) Shape(v Value) Shape {
	if int(v) < 0 || int(v) >= len(b.g.values) {
		return Shape{}
	}
	return b.g.values[v].shape
}

// capture runs f with the operations it adds held aside, and returns them
// (for emit).
func (b *Builder) capture(f func()) []*node {
	saved := b.nodes
	b.nodes = nil
	f()
	got := b.nodes
	b.nodes = saved
	return got
}

// emit appends captured operations.
func (b *Builder) emit(ns []*node) { b.nodes = append(b.nodes, ns...) }

// param declares a parameter of the module being built.
func (b *Builder) param(name string, shape []int, decay bool, init Init) *Param {
	p := b.declare(name, shape)
	p.Decay, p.Init = decay, init
	b.g.params = append(b.g.params, p)
	return p
}

// buffer declares a non-trained tensor (running statistics) starting at
// fill.
func (b *Builder) buffer(name string, shape []int, fill float32) *Param {
	p := b.declare(name, shape)
	p.Fill = fill
	b.g.buffers = append(b.g.buffers, p)
	return p
}

func (b *Builder) declare(name string, shape []int) *Param {
	full := name
	if pre := b.prefix(); pre != "" {
		full = pre + "." + name
	}
	if b.names[full] {
		b.Fail("two tensors are named %s: name the modules apart", full)
	}
	b.names[full] = true
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Param{Name: full, Shape: append([]int(nil), shape...), Len: n}
}

// op adds an operation on the inputs in and returns its output; a bad
// input or shape is reported with Fail and yields the first input.
func (b *Builder) op(o op, in ...Value) Value {
	if b.err != nil {
		return in[0]
	}
	shapes := make([]Shape, len(in))
	for i, v := range in {
		if int(v) < 0 || int(v) >= len(b.g.values) {
			b.Fail("%s: input %d is not a value of this network", o.kind(), v)
			return in[0]
		}
		shapes[i] = b.g.values[v].shape
	}
	out, err := o.shape(shapes)
	if err != nil {
		b.Fail("%s on %v: %v", o.kind(), shapes, err)
		return in[0]
	}
	if err := out.valid(); err != nil {
		b.Fail("%s on %v: %v", o.kind(), shapes, err)
		return in[0]
	}
	v := Value(len(b.g.values))
	b.g.values = append(b.g.values, value{shape: out})
	name := b.prefix()
	if name == "" {
		name = o.kind()
	}
	b.nodes = append(b.nodes, &node{name: name, op: o, in: in, out: v})
	return v
}

// Add adds two values of the same shape elementwise (a residual sum).
func (b *Builder) Add(x, y Value) Value { return b.op(addOp{}, x, y) }
