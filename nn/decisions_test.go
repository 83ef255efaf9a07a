package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/internal/testgpu"
)

// TestFollowOnlyNearTies: the CPU takes the GPU's ReLU and max-pool
// decisions only at near-ties; decisions that differ by more (as a bug in
// the GPU's pooling or batch norm would make them) are counted as hard
// mismatches and not followed.
func TestFollowOnlyNearTies(t *testing.T) {
	net := Seq(Conv2D{In: 3, Out: 4, Kernel: 3, Pad: 1}, BatchNorm2D{C: 4}, ReLU{}, MaxPool2D{Kernel: 2},
		GlobalAvgPool{}, Flatten{}, Linear{In: 4, Out: 3})
	m, err := New("tiny", net, Shape{C: 3, H: 8, W: 8})
	require.NoError(t, err)
	g, err := NewGPU(testgpu.Open(t), m, SGD{}, 2, Options{})
	require.NoError(t, err)
	defer g.Close()
	c, err := NewCPU(m, SGD{}, 2, Options{})
	require.NoError(t, err)
	require.NoError(t, g.SetState(m.Init(1)))
	require.NoError(t, c.SetState(m.Init(1)))
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 2*3*8*8)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := []int32{0, 2}
	_, _, err = g.Step(x, y, 0.1)
	require.NoError(t, err)
	d, err := g.Decisions()
	require.NoError(t, err)
	for n, mask := range d.masks {
		for i := range mask {
			mask[i] = !mask[i] // every ReLU decision reversed
		}
		d.masks[n] = mask
	}
	for n, arg := range d.args {
		arg[0] = arg[1] // a window's winner taken from the next window
		d.args[n] = arg
	}
	c.Follow(d)
	_, _, err = c.Step(x, y, 0.1)
	require.NoError(t, err)
	flips, hard, total := c.Flips()
	require.Equal(t, 2*4*8*8+2*4*4*4, total)
	require.Less(t, flips, 12, "few of 512 inputs are within a near-tie of 0")
	require.Greater(t, hard, 500, "reversed decisions away from ties are hard mismatches")

	c.Follow(d)
	c2, err := NewCPU(m, SGD{}, 3, Options{})
	require.NoError(t, err)
	c2.Follow(d)
	_, _, err = c2.Step(make([]float32, 3*3*8*8), []int32{0, 0, 0}, 0.1)
	require.ErrorContains(t, err, "another model or batch size")
}
