package layers

import "github.com/vknn/vknn/gpu"

// ReLU sets y = max(x, 0).
func ReLU[T Float](x, y []T) {
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// ReLUBackward sets dx = dy where the ReLU's output y is positive, else 0.
func ReLUBackward[T Float](y, dy, dx []T) {
	for i := range y {
		dx[i] = 0
		if y[i] > 0 {
			dx[i] = dy[i]
		}
	}
}

// ReLUGPU records a ReLU over n floats (batch norms fuse theirs; this is
// for the others).
type ReLUGPU struct {
	N        int
	fwd, bwd *gpu.Kernel
}

// NewReLUGPU prepares the kernels.
func NewReLUGPU(m *gpu.Manager, n int) (*ReLUGPU, error) {
	ks := &kernels{m: m}
	g := &ReLUGPU{N: n, fwd: ks.get("relu_fwd", "rw", 1, 256), bwd: ks.get("relu_bwd", "rrw", 1, 256)}
	return g, ks.err
}

// Forward records y = max(x, 0).
func (g *ReLUGPU) Forward(s *gpu.Sequence, x, y gpu.Arg) {
	s.Dispatch(g.fwd, elementGroups(g.N), u32(g.N), x, y)
}

// Backward records dx = dy where y > 0, else 0.
func (g *ReLUGPU) Backward(s *gpu.Sequence, y, dy, dx gpu.Arg) {
	s.Dispatch(g.bwd, elementGroups(g.N), u32(g.N), y, dy, dx)
}
