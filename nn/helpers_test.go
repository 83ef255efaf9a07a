package nn_test

import (
	"math/rand/v2"

	"github.com/vknn/vknn/perf"
)

func rngFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func relErr(got, want []float32) float64 { return perf.RelErr(got, want) }
