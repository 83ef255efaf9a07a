package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpAndErrors: help and flag errors go to stderr, so that --json on
// stdout stays clean; help exits 0; the usage names each flag's type.
func TestHelpAndErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"step", "--help"}, &out, &errOut))
	require.Empty(t, out.String())
	require.Contains(t, errOut.String(), "-gpu int")

	out.Reset()
	errOut.Reset()
	err := run([]string{"conv3x3", "--json", "--no-such-flag"}, &out, &errOut)
	require.ErrorContains(t, err, "not defined")
	require.Empty(t, out.String())
	require.Contains(t, errOut.String(), "Usage")

	out.Reset()
	require.NoError(t, run([]string{"help"}, &out, &errOut))
	require.Empty(t, out.String())
	err = run([]string{"nope"}, &out, &errOut)
	require.ErrorContains(t, err, "unknown command")
	require.Empty(t, out.String())
}

// TestShapeBounds: a stride or kernel larger than the input is refused
// (a stride of 100 once built 10,000 pipelines).
func TestShapeBounds(t *testing.T) {
	for shape, want := range map[string]string{
		"16,16,8,100":   "a stride of 100 and a kernel of 3 on 8x8 inputs",
		"16,16,8,1,9":   "a kernel of 9",
		"16,16,8,2,3":   "",
		"16,16,x":       "positive integers",
		"16,16,8,1,3,1": "want C,K,H",
	} {
		_, err := parseShape(shape, 2)
		if want == "" {
			require.NoError(t, err, shape)
			continue
		}
		require.ErrorContains(t, err, want, shape)
		require.True(t, strings.HasPrefix(err.Error(), "--shape"), shape)
	}
}

// TestStepWithoutTimestamps: on a device without compute timestamps
// (simulated), bench step times steps by the wall clock, says so, and its
// JSON holds finite figures.
func TestStepWithoutTimestamps(t *testing.T) {
	t.Setenv("VKNN_FAULT", "no-timestamps")
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"step", "--tiny", "--json"}, &out, &errOut), errOut.String())
	var got struct {
		MsPerStep  float64 `json:"ms_per_step"`
		ImagesPerS float64 `json:"images_per_s"`
		Clock      string  `json:"clock"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	require.Contains(t, got.Clock, "wall time")
	require.Greater(t, got.MsPerStep, 0.0)
	require.False(t, math.IsInf(got.ImagesPerS, 0) || math.IsNaN(got.ImagesPerS))
}

// TestStepRate: bench step reports the step's direct-convolution GFLOP
// (3 x ResNet-20's 81.1 MFLOP forward per image), its rate and the share
// of the FMA ceiling measured in the same run.
func TestStepRate(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run([]string{"step", "--tiny", "--json", "--batch", "2"}, &out, &errOut), errOut.String())
	var got struct {
		MsPerStep float64 `json:"ms_per_step"`
		GFLOP     float64 `json:"gflop_per_step"`
		GFLOPs    float64 `json:"gflops"`
		FMA       float64 `json:"fma_gflops"`
		Pct       float64 `json:"pct_of_fma"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	require.InDelta(t, 3*81.1e6*2/1e9, got.GFLOP, 0.001)
	require.InDelta(t, got.GFLOP/(got.MsPerStep/1e3), got.GFLOPs, 1e-9)
	if got.FMA == 0 {
		t.Skip("no FMA ceiling: the device has no timestamps")
	}
	require.InDelta(t, 100*got.GFLOPs/got.FMA, got.Pct, 1e-9)
}
