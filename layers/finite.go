package layers

import (
	"math"

	"github.com/vknn/vknn/gpu"
)

// AllFinite tells whether every value of x is neither infinite nor NaN:
// the CPU reference of FiniteGPU.
func AllFinite[T Float](x []T) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// FiniteGPU checks a buffer for infinite and NaN values on the GPU
// (finite.comp), so that a diverged step is seen even where no loss shows
// it: a ReLU on the GPU may turn NaN into 0 (GLSL's max leaves NaN
// undefined), and a network full of NaN weights can report a finite loss.
type FiniteGPU struct{ k *gpu.Kernel }

// NewFiniteGPU prepares the check.
func NewFiniteGPU(m *gpu.Manager) (*FiniteGPU, error) {
	k, err := kernel(m, "finite", "rb", 1)
	return &FiniteGPU{k: k}, err
}

// Span is the first N floats of X.
type Span struct {
	X gpu.Arg
	N int
}

// Record records flag = 0, then flag = 1 if any float of the spans is
// infinite or NaN (flag: one 32-bit word).
func (f *FiniteGPU) Record(s *gpu.Sequence, flag gpu.Arg, spans ...Span) {
	s.Fill(flag, 0)
	for _, sp := range spans {
		s.Dispatch(f.k, elementGroups(sp.N), []uint32{uint32(sp.N)}, sp.X, flag)
	}
}
