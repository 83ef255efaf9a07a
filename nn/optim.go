package nn

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// Optimizer updates a model's parameters from their gradients: SGD or
// AdamW, each with a GPU kernel and a CPU reference. The learning rate is
// given at each step. (Its methods are unexported: an optimizer needs its
// kernel, so the set is closed.)
type Optimizer interface {
	// Slots names the optimizer's per-parameter state tensors, as they
	// are named in checkpoints (optimizer.<slot>.<parameter>).
	Slots() []string
	check() error
	// splits tells whether the weights and the other parameters get
	// different hyperparameters (no weight decay on the others).
	splits() bool
	// words are a group's hyperparameters at step t (1 for the first) as
	// the kernel reads them; decay: the group is the weights.
	words(lr float64, t int, decay bool) [layers.HyperWords]float32
	stepCPU(lr float64, t int, decay bool, w, g []float32, slots [][]float32)
	newGPU(m *gpu.Manager) (*layers.OptimizerGPU, error)
}

// SGD is stochastic gradient descent with momentum (optionally Nesterov's)
// and L2 weight decay, in PyTorch's form (torch.optim.SGD). With
// NoDecayNormBias the weight decay applies to the weights of convolutions
// and linear layers only, not to biases and batch-norm parameters.
type SGD struct {
	Momentum        float64
	Nesterov        bool
	WD              float64
	NoDecayNormBias bool
}

// Slots is the momentum buffer.
func (SGD) Slots() []string { return []string{"momentum"} }

func (o SGD) check() error {
	switch {
	case !(o.Momentum >= 0 && o.Momentum < 1):
		return fmt.Errorf("nn: SGD momentum %g: want 0 <= momentum < 1", o.Momentum)
	case !(o.WD >= 0 && o.WD < 1):
		return fmt.Errorf("nn: SGD weight decay %g: want 0 <= wd < 1", o.WD)
	case o.Nesterov && o.Momentum == 0:
		return fmt.Errorf("nn: Nesterov momentum needs a momentum above 0")
	}
	return nil
}

func (o SGD) splits() bool { return o.NoDecayNormBias && o.WD != 0 }

func (o SGD) layer(lr float64, decay bool) layers.SGD {
	wd := o.WD
	if !decay && o.NoDecayNormBias {
		wd = 0
	}
	return layers.SGD{LR: lr, Momentum: o.Momentum, WD: wd, Nesterov: o.Nesterov}
}

func (o SGD) words(lr float64, _ int, decay bool) [layers.HyperWords]float32 {
	return o.layer(lr, decay).Words()
}

func (o SGD) stepCPU(lr float64, _ int, decay bool, w, g []float32, slots [][]float32) {
	layers.SGDStep(o.layer(lr, decay), w, g, slots[0])
}

func (SGD) newGPU(m *gpu.Manager) (*layers.OptimizerGPU, error) { return layers.NewSGDGPU(m) }

// AdamW is Adam with decoupled weight decay, in PyTorch's form
// (torch.optim.AdamW). DefaultAdamW has PyTorch's defaults.
type AdamW struct {
	Beta1, Beta2, Eps, WD float64
	NoDecayNormBias       bool
}

// DefaultAdamW is torch.optim.AdamW's default: betas (0.9, 0.999), eps
// 1e-8, weight decay 0.01.
var DefaultAdamW = AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WD: 0.01}

// Slots are the first and second moments.
func (AdamW) Slots() []string { return []string{"exp_avg", "exp_avg_sq"} }

func (o AdamW) check() error {
	switch {
	case !(o.Beta1 >= 0 && o.Beta1 < 1), !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("nn: AdamW betas (%g, %g): want each in [0, 1)", o.Beta1, o.Beta2)
	case !(o.Eps > 0):
		return fmt.Errorf("nn: AdamW eps %g: want > 0", o.Eps)
	case !(o.WD >= 0 && o.WD < 1):
		return fmt.Errorf("nn: AdamW weight decay %g: want 0 <= wd < 1", o.WD)
	}
	return nil
}

func (o AdamW) splits() bool { return o.NoDecayNormBias && o.WD != 0 }

func (o AdamW) layer(lr float64, t int, decay bool) layers.AdamW {
	wd := o.WD
	if !decay && o.NoDecayNormBias {
		wd = 0
	}
	return layers.AdamW{LR: lr, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WD: wd, Step: t}
}

func (o AdamW) words(lr float64, t int, decay bool) [layers.HyperWords]float32 {
	return o.layer(lr, t, decay).Words()
}

func (o AdamW) stepCPU(lr float64, t int, decay bool, w, g []float32, slots [][]float32) {
	layers.AdamWStep(o.layer(lr, t, decay), w, g, slots[0], slots[1])
}

func (AdamW) newGPU(m *gpu.Manager) (*layers.OptimizerGPU, error) { return layers.NewAdamWGPU(m) }
