package nn

import "github.com/vknn/vknn/gpu"

// op is one kind of operation: its shape rule and cost, its CPU reference
// (forward and backward) and its GPU form. Each layer's file holds its
// module and its op side by side.
type op interface {
	kind() string
	shape(in []Shape) (Shape, error)
	params() []*Param // trained parameters it owns
	flops(in []Shape) float64
	forwardCPU(r *cpuRun, n *node)
	backwardCPU(r *cpuRun, n *node)
	lower(g *gpuGraph, s *step) (gpuOp, error)
}

// aliaser is an op whose output is its input, unchanged (Flatten; Dropout
// in eval mode): the GPU gives both one buffer and records nothing.
type aliaser interface {
	alias(train bool) bool
}

// gpuOp is an op lowered for one graph: it records its forward pass and,
// in a training graph, its backward pass.
type gpuOp interface {
	forward(s *gpu.Sequence)
	backward(g *gpuGraph)
}

// nothing is a gpuOp that records nothing (aliases).
type nothing struct{}

func (nothing) forward(*gpu.Sequence) {}
func (nothing) backward(*gpuGraph)    {}

// noParams is embedded by ops without parameters.
type noParams struct{}

func (noParams) params() []*Param { return nil }

// noFLOPs is embedded by ops whose arithmetic is not counted.
type noFLOPs struct{}

func (noFLOPs) flops([]Shape) float64 { return 0 }
