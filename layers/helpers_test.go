package layers

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice[T Float](rng *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(2*rng.Float64() - 1)
	}
	return x
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// relErr64 is ‖got−want‖/‖want‖ in float64 (‖got‖ when want is zero).
func relErr64(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		if math.IsNaN(got[i]) {
			return math.Inf(1)
		}
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// checkGrad compares analytic, the gradient of loss with respect to x,
// with central differences, and fails t unless they agree to tol.
func checkGrad(t *testing.T, what string, x []float64, analytic []float64, loss func() float64, tol float64) {
	t.Helper()
	const eps = 1e-5
	numeric := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + eps
		up := loss()
		x[i] = old - eps
		down := loss()
		x[i] = old
		numeric[i] = (up - down) / (2 * eps)
	}
	if e := relErr64(analytic, numeric); !(e < tol) {
		t.Errorf("%s: analytic vs finite-difference gradient: relative error %.3g, want < %g", what, e, tol)
	}
}
