package nn

import (
	"math"
	"math/rand/v2"

	"github.com/vknn/vknn/layers"
)

// HeNormal draws from N(0, 2/fanIn) (He et al. 2015; PyTorch's
// kaiming_normal_ with its defaults): the ResNet paper's initialisation.
func HeNormal(fanIn int) Init {
	return func(rng *rand.Rand, w []float32) { layers.HeNormal(rng, w, fanIn) }
}

// Uniform draws from U(-bound, bound). Uniform(1/sqrt(fanIn)) is
// PyTorch's default for nn.Linear's weight and bias.
func Uniform(bound float64) Init {
	return func(rng *rand.Rand, w []float32) { layers.Uniform(rng, w, bound) }
}

// Normal draws from N(0, std²).
func Normal(std float64) Init {
	return func(rng *rand.Rand, w []float32) {
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// Constant sets every element to v. (A nil Init leaves zeros.)
func Constant(v float32) Init {
	return func(_ *rand.Rand, w []float32) {
		for i := range w {
			w[i] = v
		}
	}
}

// fanInBound is PyTorch's default bound for a layer with fanIn inputs.
func fanInBound(fanIn int) float64 { return 1 / math.Sqrt(float64(fanIn)) }
