package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWarmup: the learning rate as a function of the step and of the
// training error the schedule has seen: the warm-up rate until the first
// window below the bound, the base rate from that step on, milestones as
// usual, the rollback scale over all.
func TestWarmup(t *testing.T) {
	s := schedule{base: 0.1, scale: 1, milestones: []int{32000, 48000}, warm: true, warmLR: 0.01, warmBelow: 0.8, warmEnd: -1}
	observed := []struct {
		step  int
		err   float64
		ended bool
	}{{20, 0.90, false}, {40, 0.85, false}, {60, 0.80, false}, {400, 0.79, true}, {420, 0.95, false}}
	for _, o := range observed {
		if s.warmEnd < 0 {
			require.Equal(t, 0.01, s.lr(o.step-1), "step %d: still warming up", o.step-1)
		}
		require.Equal(t, o.ended, s.observe(o.step, o.err), "step %d, error %v", o.step, o.err)
	}
	// Ended at step 400 for good: a later high error does not restart it.
	require.Equal(t, 400, s.warmEnd)
	for step, want := range map[int]float64{0: 0.01, 399: 0.01, 400: 0.1, 31999: 0.1, 32000: 0.01, 48000: 0.001} {
		require.InDelta(t, want, s.lr(step), 1e-15, "step %d", step)
	}
	s.scale = 0.1
	require.InDelta(t, 0.001, s.lr(10), 1e-15)

	off := schedule{base: 0.1, scale: 1, warmLR: 0.01, warmBelow: 0.8, warmEnd: -1}
	require.False(t, off.observe(20, 0.1))
	require.Equal(t, 0.1, off.lr(0))

	// A NaN error never ends it.
	nan := schedule{base: 0.1, scale: 1, warm: true, warmLR: 0.01, warmBelow: 0.8, warmEnd: -1}
	require.False(t, nan.observe(20, func() float64 { var z float64; return z / z }()))
}

// TestWarmupDefault: on for ResNets of 110 layers and more, off otherwise,
// unless asked.
func TestWarmupDefault(t *testing.T) {
	for args, want := range map[string]string{"--depth 110": "on", "--model resnet1202": "on", "--depth 56": "off",
		"--model plain110": "off", "--depth 20 --warmup on": "on", "--depth 110 --warmup off": "off"} {
		o, err := parse(strings.Fields(args), io.Discard)
		require.NoError(t, err, args)
		require.Equal(t, want, o.warmup, args)
	}
	_, err := parse([]string{"--warmup", "maybe"}, io.Discard)
	require.ErrorContains(t, err, "--warmup")
}

func TestMilestones(t *testing.T) {
	ms, err := parseMilestones("50%, 75%,1000")
	require.NoError(t, err)
	require.Equal(t, []int{150, 225, 1000}, resolve(ms, 300))
	require.Equal(t, []int{32000, 48000, 1000}, resolve(ms, 64000))
	for _, bad := range []string{"x", "-1", "150%", "1.5", "%", "NaN%", "NaN", "1e30", "Inf"} {
		_, err := parseMilestones(bad)
		require.Error(t, err, bad)
	}
}
