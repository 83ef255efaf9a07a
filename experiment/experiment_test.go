package experiment

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/runlog"
)

func TestNamed(t *testing.T) {
	for name, want := range map[string][]string{
		"fig6":          {"plain20", "plain32", "plain44", "plain56", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"},
		"table6":        {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110"},
		"vgg-vs-resnet": {"vgg11", "vgg16", "resnet20", "resnet56"},
	} {
		d, err := Named(name)
		require.NoError(t, err)
		var got []string
		for _, r := range d.Runs(nil) {
			got = append(got, r.Name)
		}
		require.Equal(t, want, got, name)
	}
	d, _ := Named("fig6")
	require.Len(t, d.Runs([]int{20, 110}), 3, "no plain-110 in the paper")
	_, err := Named("fig7")
	require.ErrorContains(t, err, "fig6, table6, vgg-vs-resnet")
	_, err = Select(d.Runs(nil), []string{"resnet20", "vgg11"})
	require.ErrorContains(t, err, "--only vgg11: not a run")
	rs, err := Select(d.Runs(nil), []string{"resnet56", "plain20"})
	require.NoError(t, err)
	require.Equal(t, "resnet56", rs[0].Name)
}

func curve(errs ...float64) []runlog.Point {
	var out []runlog.Point
	for i, e := range errs {
		out = append(out, runlog.Point{Step: 20 * (i + 1), Steps: 20, TrainErr: e})
	}
	return out
}

// TestTrainErr: the mean over the last n steps up to a step, windows
// weighted by their steps; NaN past the curve's end.
func TestTrainErr(t *testing.T) {
	r := Result{Curve: append(curve(0.9, 0.8, 0.6), runlog.Point{Step: 70, Steps: 10, TrainErr: 0.3})}
	e, n := r.TrainErr(70, 30)
	require.Equal(t, 30, n)
	require.InDelta(t, (0.6*20+0.3*10)/30, e, 1e-12)
	e, n = r.TrainErr(40, 100)
	require.Equal(t, 40, n)
	require.InDelta(t, 0.85, e, 1e-12)
	e, _ = r.TrainErr(80, 20)
	require.True(t, math.IsNaN(e))
}

// TestTable: one row per run with the paper's figures, and the depth
// verdict per family computed at the step both runs reached.
func TestTable(t *testing.T) {
	d, _ := Named("fig6")
	val := 0.5
	results := []Result{
		{Run: Run{"plain20", "plain20", "plain", 20}, Done: true, Steps: 100, Curve: curve(0.9, 0.7, 0.6, 0.5, 0.4), Epochs: []runlog.Epoch{{Step: 100, ValErr: &val}}},
		{Run: Run{"plain56", "plain56", "plain", 56}, Done: true, Steps: 100, Curve: curve(0.9, 0.8, 0.7, 0.6, 0.55)},
		{Run: Run{"resnet20", "resnet20", "ResNet", 20}, Done: true, Steps: 100, Curve: curve(0.9, 0.7, 0.6, 0.5, 0.4)},
		{Run: Run{"resnet56", "resnet56", "ResNet", 56}, Steps: 60, Curve: curve(0.8, 0.6, 0.5)},
	}
	var b strings.Builder
	Table(&b, d, results)
	out := b.String()
	t.Log(out)
	require.Contains(t, out, "| resnet20 | 20 | 0.00M | 0.27M |")
	require.Contains(t, out, "| 8.75% |")
	require.Contains(t, out, "| 60 (running) |")
	require.Contains(t, out, "| 50.00% |")
	require.Contains(t, out, "plain: at step 100 (mean of the last 100 steps) plain56's training error is 71.00%, plain20's 62.00%: the deeper net's is above")
	require.Contains(t, out, "ResNet: at step 60 (mean of the last 60 steps) resnet56's training error is 63.33%, resnet20's 73.33%: the deeper net's is not above")
}
