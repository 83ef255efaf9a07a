package perf

import "math"

// RelErr is ‖got−want‖/‖want‖ in float64: how GPU results are held to their
// CPU references. It is +Inf if got has a NaN or Inf or the lengths
// differ, and ‖got‖ when want is all zeros.
func RelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		num += (g - w) * (g - w)
		den += w * w
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}
