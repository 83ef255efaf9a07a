// Package perf measures a device's ceilings (FMA throughput, copy
// bandwidth, submit and dispatch costs) and times recorded sequences, so
// that kernels can be reported against what the machine can do.
package perf

import (
	"slices"
	"time"

	"github.com/vknn/vknn/gpu"
)

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Sample runs s warm times untimed, then reps times, and returns the
// median device time of one run in nanoseconds: from its timestamps when
// it was recorded with them, else from the host clock around the submit.
func Sample(s *gpu.Sequence, warm, reps int) (float64, error) {
	for range warm {
		if err := s.Submit(); err != nil {
			return 0, err
		}
	}
	times := make([]float64, 0, reps)
	for range reps {
		t0 := time.Now()
		if err := s.Submit(); err != nil {
			return 0, err
		}
		host := float64(time.Since(t0).Nanoseconds())
		tim, err := s.Timings()
		if err != nil {
			return 0, err
		}
		if tim == nil {
			times = append(times, host)
			continue
		}
		var dev float64
		for _, x := range tim {
			dev += x.Ns
		}
		times = append(times, dev)
	}
	return Median(times), nil
}
