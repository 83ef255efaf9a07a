package layers

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
)

// Dropout zeroes each element with probability P while training and
// scales the others by 1/(1-P); it is the identity in eval mode. The mask
// is a function of a key (from the step's seed and the layer's salt) and
// the element's index, so that the GPU and the CPU draw the same one and
// the backward pass recomputes it.
type Dropout struct{ P float64 }

// lowbias32 is Chris Wellons' 32-bit integer hash (as shaders/dropout.comp).
func lowbias32(v uint32) uint32 {
	v ^= v >> 16
	v *= 0x7feb352d
	v ^= v >> 15
	v *= 0x846ca68b
	v ^= v >> 16
	return v
}

// DropoutKey is the mask's key for a step's seed and a layer's salt.
func DropoutKey(seed, salt uint32) uint32 { return lowbias32(seed ^ lowbias32(salt)) }

// Keep tells whether element i survives under key.
func (d Dropout) Keep(key uint32, i int) bool {
	u := float32(lowbias32(uint32(i)+key)>>8) * (1.0 / 16777216.0)
	return u >= float32(d.P)
}

// Scale is 1/(1-P) as a float32, the factor kept elements are scaled by.
func (d Dropout) Scale() float32 { return float32(1 / (1 - d.P)) }

// Check reports an error unless 0 <= P < 1.
func (d Dropout) Check() error {
	if !(d.P >= 0 && d.P < 1) {
		return fmt.Errorf("layers: dropout probability %g: want 0 <= p < 1", d.P)
	}
	return nil
}

// DropoutApply sets y = mask(x) * Scale: the forward pass from x to y, and
// the backward pass from dy to dx.
func DropoutApply[T Float](d Dropout, key uint32, x, y []T) {
	s := T(d.Scale())
	for i, v := range x {
		y[i] = 0
		if d.Keep(key, i) {
			y[i] = v * s
		}
	}
}

// DropoutGPU records dropout over n floats.
type DropoutGPU struct {
	D Dropout
	N int
	k *gpu.Kernel
}

// NewDropoutGPU prepares the kernel.
func NewDropoutGPU(m *gpu.Manager, d Dropout, n int) (*DropoutGPU, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	k, err := kernel(m, "dropout", "rwr", 4)
	return &DropoutGPU{D: d, N: n, k: k}, err
}

// Apply records y = mask(x) * Scale with the mask of the step seed in
// seed[0] (a uint32) and the layer's salt; the same call maps dy to dx.
func (g *DropoutGPU) Apply(s *gpu.Sequence, salt uint32, x, y, seed gpu.Arg) {
	s.Dispatch(g.k, elementGroups(g.N), []uint32{uint32(g.N), salt, f32(float32(g.D.P)), f32(g.D.Scale())}, x, y, seed)
}
