package layers

import (
	"math"

	"github.com/vknn/vknn/gpu"
)

// HyperWords is the number of float32 words of one parameter group's
// optimizer hyperparameters, as the sgd and adamw kernels read them.
const HyperWords = 8

// SGD is stochastic gradient descent with momentum and weight decay in
// PyTorch's form: d = g + WD*w; v = Momentum*v + d; w -= LR*v, or with
// Nesterov momentum w -= LR*(d + Momentum*v).
type SGD struct {
	LR, Momentum, WD float64
	Nesterov         bool
}

// Words are the hyperparameters as the sgd kernel reads them.
func (o SGD) Words() [HyperWords]float32 {
	n := float32(0)
	if o.Nesterov {
		n = 1
	}
	return [HyperWords]float32{float32(o.LR), float32(o.Momentum), float32(o.WD), n}
}

// SGDStep applies one step to w with gradient g and momentum buffer v.
func SGDStep[T Float](o SGD, w, g, v []T) {
	lr, mu, wd := T(o.LR), T(o.Momentum), T(o.WD)
	for i := range w {
		d := g[i] + wd*w[i]
		m := mu*v[i] + d
		v[i] = m
		if o.Nesterov {
			w[i] -= lr * (d + mu*m)
		} else {
			w[i] -= lr * m
		}
	}
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2019)
// in PyTorch's form (torch.optim.AdamW): at step Step (1 for the first)
// w *= 1 - LR*WD; m = B1*m + (1-B1)*g; v = B2*v + (1-B2)*g²;
// w -= LR/(1-B1^Step) * m / (sqrt(v)/sqrt(1-B2^Step) + Eps).
type AdamW struct {
	LR, Beta1, Beta2, Eps, WD float64
	Step                      int
}

// Words are the hyperparameters as the adamw kernel reads them (see
// shaders/adamw.comp); AdamWStep uses the same float32 values.
func (o AdamW) Words() [HyperWords]float32 {
	t := float64(max(o.Step, 1))
	bc1, bc2 := 1-math.Pow(o.Beta1, t), 1-math.Pow(o.Beta2, t)
	return [HyperWords]float32{float32(1 - o.LR*o.WD), float32(o.Beta1), float32(1 - o.Beta1),
		float32(o.Beta2), float32(1 - o.Beta2), float32(o.LR / bc1), float32(math.Sqrt(bc2)), float32(o.Eps)}
}

// AdamWStep applies one step to w with gradient g and moment buffers m, v,
// in float32 as the GPU does.
func AdamWStep(o AdamW, w, g, m, v []float32) {
	h := o.Words()
	decay, b1, c1, b2, c2, step, bc2, eps := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for i := range w {
		gi := g[i]
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*(gi*gi)
		m[i], v[i] = mi, vi
		w[i] = w[i]*decay - step*(mi/(float32(math.Sqrt(float64(vi)))/bc2+eps))
	}
}

// OptimizerGPU records an optimizer's update of a flat range of
// parameters: the sgd kernel (one state buffer, the momentum) or the
// adamw kernel (two: the first and second moments). The hyperparameters
// are read from a buffer at run time, so that a recorded step follows a
// schedule without re-recording.
type OptimizerGPU struct {
	k     *gpu.Kernel
	slots int
}

// NewSGDGPU prepares the sgd kernel.
func NewSGDGPU(m *gpu.Manager) (*OptimizerGPU, error) {
	k, err := kernel(m, "sgd", "brbr", 1)
	return &OptimizerGPU{k, 1}, err
}

// NewAdamWGPU prepares the adamw kernel.
func NewAdamWGPU(m *gpu.Manager) (*OptimizerGPU, error) {
	k, err := kernel(m, "adamw", "brbbr", 1)
	return &OptimizerGPU{k, 2}, err
}

// Slots is the number of state buffers per parameter.
func (o *OptimizerGPU) Slots() int { return o.slots }

// Record records one update of the n parameters in w from grad, with the
// optimizer's state buffers slots and the group's hyperparameter words in
// hyper (HyperWords floats).
func (o *OptimizerGPU) Record(s *gpu.Sequence, n int, w, grad gpu.Arg, slots []gpu.Arg, hyper gpu.Arg) {
	args := append(append([]gpu.Arg{w, grad}, slots...), hyper)
	s.Dispatch(o.k, elementGroups(n), u32(n), args...)
}

// HeNormal fills w with N(0, 2/fanIn) samples (He et al. 2015, which the
// ResNet paper cites; PyTorch's kaiming_normal_ with its defaults).
func HeNormal[T Float](rng interface{ NormFloat64() float64 }, w []T, fanIn int) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = T(rng.NormFloat64() * std)
	}
}

// Uniform fills w with samples uniform in ±bound: with bound
// 1/sqrt(fanIn), PyTorch's default initialisation of nn.Linear and
// nn.Conv2d biases (and, by its kaiming_uniform_(a=√5), of their weights).
func Uniform[T Float](rng interface{ Float64() float64 }, w []T, bound float64) {
	for i := range w {
		w[i] = T((2*rng.Float64() - 1) * bound)
	}
}
