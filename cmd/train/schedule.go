package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// schedule is a run's learning rate as a function of the step: the base
// rate divided by 10 at each milestone, and, with the warm-up on, a
// smaller rate from the start until the training error first falls below
// a bound. He et al. 2016 (section 4.2) train ResNet-110 so: "we use 0.01
// to warm up the training until the training error is below 80% (about
// 400 iterations), and then go back to 0.1".
type schedule struct {
	base       float64
	scale      float64 // 1, divided by 10 at each rollback after a NaN
	milestones []int
	warm       bool    // the warm-up is on
	warmLR     float64 // its rate
	warmBelow  float64 // it ends when the training error is below this
	warmEnd    int     // the step it ended at; -1 while it lasts
}

// lr is the rate at step.
func (s *schedule) lr(step int) float64 {
	if s.warm && (s.warmEnd < 0 || step < s.warmEnd) {
		return s.warmLR * s.scale
	}
	lr := s.base * s.scale
	for _, m := range s.milestones {
		if step >= m {
			lr /= 10
		}
	}
	return lr
}

// observe takes the training error measured over the steps before step
// (a window of the curve); the warm-up ends there when it is below the
// bound. It reports whether it ended now.
func (s *schedule) observe(step int, trainErr float64) bool {
	if !s.warm || s.warmEnd >= 0 || !(trainErr < s.warmBelow) {
		return false
	}
	s.warmEnd = step
	return true
}

// milestone is one entry of --milestones: a step, or a percentage of the
// run's steps ("50%").
type milestone struct {
	v   float64
	pct bool
}

func parseMilestones(spec string) ([]milestone, error) {
	var out []milestone
	for _, f := range strings.Split(spec, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		num, pct := strings.CutSuffix(f, "%")
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || !(v >= 0) || (!pct && (v != math.Trunc(v) || v > math.MaxInt32)) || (pct && v > 100) {
			return nil, fmt.Errorf("%q is neither a step nor a percentage of the run (such as 50%%)", f)
		}
		out = append(out, milestone{v, pct})
	}
	return out, nil
}

// resolve gives the milestones as steps of a run of total steps.
func resolve(ms []milestone, total int) []int {
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = int(m.v)
		if m.pct {
			out[i] = int(math.Round(m.v / 100 * float64(total)))
		}
	}
	return out
}
