package layers

import (
	"math"
	"math/rand/v2"

	"github.com/vknn/vknn/gpu"
)

// SGD is stochastic gradient descent with momentum and weight decay in
// PyTorch's form: d = g + WD*w; v = Momentum*v + d; w -= LR*v.
type SGD struct{ LR, Momentum, WD float64 }

// SGDStep applies one step to w with gradient g and momentum buffer v.
func SGDStep[T Float](o SGD, w, g, v []T) {
	lr, mu, wd := T(o.LR), T(o.Momentum), T(o.WD)
	for i := range w {
		d := g[i] + wd*w[i]
		v[i] = mu*v[i] + d
		w[i] -= lr * v[i]
	}
}

// SGDGPU records SGD steps over one flat parameter buffer. The learning
// rate, momentum and weight decay are read from a small buffer at run time,
// so a recorded step follows a schedule without re-recording.
type SGDGPU struct {
	N     int
	k     *gpu.Kernel
	hyper *gpu.Buffer
}

// NewSGDGPU prepares the kernel for n parameters.
func NewSGDGPU(m *gpu.Manager, n int) (*SGDGPU, error) {
	k, err := kernel(m, "sgd", "brbr", 1)
	if err != nil {
		return nil, err
	}
	h, err := m.NewBuffer(16)
	return &SGDGPU{N: n, k: k, hyper: h}, err
}

// Set writes the hyperparameters the next runs will use.
func (g *SGDGPU) Set(o SGD) error {
	return g.hyper.WriteFloat32([]float32{float32(o.LR), float32(o.Momentum), float32(o.WD), 0})
}

// Record records one step on w with gradient grad and momentum v.
func (g *SGDGPU) Record(s *gpu.Sequence, w, grad, v gpu.Arg) {
	s.Dispatch(g.k, elementGroups(g.N), u32(g.N), w, grad, v, g.hyper)
}

// HeNormal fills w with N(0, 2/fanIn) samples (He et al. 2015, which the
// ResNet paper cites; PyTorch's kaiming_normal_ with its defaults).
func HeNormal[T Float](rng *rand.Rand, w []T, fanIn int) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = T(rng.NormFloat64() * std)
	}
}

// LinearDefault fills w and b as PyTorch's nn.Linear does by default:
// uniform in ±1/sqrt(fanIn).
func LinearDefault[T Float](rng *rand.Rand, w, b []T, fanIn int) {
	bound := 1 / math.Sqrt(float64(fanIn))
	for i := range w {
		w[i] = T((2*rng.Float64() - 1) * bound)
	}
	for i := range b {
		b[i] = T((2*rng.Float64() - 1) * bound)
	}
}
