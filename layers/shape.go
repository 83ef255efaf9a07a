// Package layers holds the layers that vknn's networks are built from.
// Each layer has a CPU reference in plain Go, generic over float32 and
// float64 (the float64 one is what finite differences check), and a GPU
// path that records its shaders into a gpu.Sequence. Tests hold the two
// together.
//
// Activations are NCHW, row-major: element (n, c, h, w) of a tensor of
// shape {N, C, H, W} is at ((n*C+c)*H+h)*W+w. See docs/layout.md for why.
package layers

import "fmt"

// Float is the element type of the CPU references.
type Float interface{ ~float32 | ~float64 }

// Shape is the shape of an NCHW activation.
type Shape struct{ N, C, H, W int }

// Len is the number of elements.
func (s Shape) Len() int { return s.N * s.C * s.H * s.W }

// Plane is H*W.
func (s Shape) Plane() int { return s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%dx%d", s.N, s.C, s.H, s.W) }

// Valid reports an error unless every dimension is positive.
func (s Shape) Valid() error {
	if s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 {
		return fmt.Errorf("layers: shape %v has a dimension that is not positive", s)
	}
	return nil
}

// Bytes is the size in bytes of a float32 tensor of this shape.
func (s Shape) Bytes() uint64 { return uint64(4 * s.Len()) }
