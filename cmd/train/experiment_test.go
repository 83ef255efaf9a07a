package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/experiment"
	"github.com/vknn/vknn/runlog"
)

// TestExperiment runs fig6 at two small depths through the command: four
// runs, each in its folder and done, the table (every run, the paper's
// figures, the depth comparison) and the plot; run again, nothing is
// retrained; --collect draws from the folders alone; --list and --only.
func TestExperiment(t *testing.T) {
	data := fakeData(t, 80)
	out := filepath.Join(t.TempDir(), "fig6")
	args := []string{"experiment", "fig6", "--depths", "8,14", "--iters", "6", "--out", out,
		"--data", data, "--batch", "8", "--val", "16", "--log-every", "2", "--validate"}
	var stdout, stderr bytes.Buffer
	// A first try that fails before any checkpoint (a wrong --data) does
	// not bind the folders to its flags.
	bad := slices.Clone(args)
	bad[slices.Index(bad, "--data")+1] = filepath.Join(t.TempDir(), "missing.tar.gz")
	require.Error(t, run(context.Background(), bad, io.Discard, io.Discard))
	require.NoError(t, run(context.Background(), args, &stdout, &stderr), "%s\n%s", stdout.String(), stderr.String())
	t.Log(stdout.String())
	for _, name := range []string{"plain8", "plain14", "resnet8", "resnet14"} {
		_, done, err := runlog.ReadDone(filepath.Join(out, name))
		require.NoError(t, err)
		require.True(t, done, name)
		require.Contains(t, stdout.String(), "| "+name+" |")
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "| resnet14 | 14 | ")
	require.Contains(t, string(md), "plain: at step 6 (mean of the last 6 steps) plain14's training error is")
	st, err := os.Stat(filepath.Join(out, "errors.png"))
	require.NoError(t, err)
	require.Positive(t, st.Size())

	// Again: every run is kept, none trained.
	before, err := os.Stat(filepath.Join(out, "plain14", "last.safetensors"))
	require.NoError(t, err)
	stdout.Reset()
	require.NoError(t, run(context.Background(), args, &stdout, &stderr))
	require.Equal(t, 4, strings.Count(stdout.String(), "done before, kept"))
	after, err := os.Stat(filepath.Join(out, "plain14", "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, before.ModTime(), after.ModTime())

	// One machine's share of a sweep draws nothing.
	stdout.Reset()
	require.NoError(t, run(context.Background(), append(slices.Clone(args), "--only", "plain8"), &stdout, &stderr))
	require.Contains(t, stdout.String(), "done here; draw the table and plot with --collect")
	require.NotContains(t, stdout.String(), "| plain8 |")

	// Other flags into the same folder are refused, naming both.
	err = run(context.Background(), append(slices.Clone(args), "--seed", "2"), io.Discard, io.Discard)
	require.ErrorContains(t, err, "was started with other flags")

	// --collect, from a copy holding two of the runs.
	gathered := t.TempDir()
	for _, name := range []string{"plain8", "resnet8"} {
		require.NoError(t, os.CopyFS(filepath.Join(gathered, name), os.DirFS(filepath.Join(out, name))))
	}
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"experiment", "fig6", "--depths", "8,14", "--collect", "--out", gathered}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "not in "+gathered+" (not run yet, or on another machine): plain14, resnet14")
	require.FileExists(t, filepath.Join(gathered, "errors.png"))

	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"experiment", "fig6", "--list"}, &stdout, &stderr))
	require.Equal(t, "plain20\nplain32\nplain44\nplain56\nresnet20\nresnet32\nresnet44\nresnet56\nresnet110\n", stdout.String())
	require.ErrorContains(t, run(context.Background(), []string{"experiment", "fig6", "--only", "plain110"}, io.Discard, io.Discard), "not a run")
}

// TestExperimentResumes: an experiment stopped in its second run (as by
// Ctrl-C: the run saves and stops) and started again keeps the finished
// run and resumes the stopped one; every run's checkpoint, curve and
// metrics then equal those of the experiment run without a stop, bit for
// bit. The warm-up is on (ending at its first window), so its state is
// part of what must survive, as is the curve's open window: the stop
// comes at step 8, inside a window of 3.
func TestExperimentResumes(t *testing.T) {
	data := fakeData(t, 80)
	runs := []experiment.Run{{Name: "resnet8", Model: "resnet8", Group: "ResNet", Depth: 8}, {Name: "plain8", Model: "plain8", Group: "plain", Depth: 8}}
	shared := []string{"--iters", "20", "--milestones", "50%,75%", "--data", data, "--batch", "8", "--val", "16",
		"--log-every", "3", "--warmup", "on", "--warmup-below", "1", "--lr", "0.05"}
	var mu sync.Mutex
	var trained []string
	// plan stops run stopIn when its output shows at.
	plan := func(dir, stopIn, at string, cancel context.CancelFunc) experiment.Plan {
		return experiment.Plan{Dir: dir, Runs: runs, Args: shared, Log: io.Discard,
			Train: func(ctx context.Context, args []string, log io.Writer) error {
				mu.Lock()
				trained = append(trained, strings.Join(args, " "))
				mu.Unlock()
				if cancel != nil && slices.Contains(args, filepath.Join(dir, stopIn)) {
					log = &cancelAt{w: log, at: at, cancel: cancel}
				}
				return run(ctx, args, log, log)
			}}
	}
	whole, stopped := t.TempDir(), t.TempDir()
	require.NoError(t, plan(whole, "", "", nil).Execute(context.Background()))

	// First stop: in resnet8 at step 3, inside its first epoch, just as
	// the warm-up ends.
	ctx, cancel := context.WithCancel(context.Background())
	require.Error(t, plan(stopped, "resnet8", "warm-up over at step 3", cancel).Execute(ctx))
	require.Equal(t, "3", stepOf(t, filepath.Join(stopped, "resnet8", "last.safetensors")))
	require.NoFileExists(t, filepath.Join(stopped, "plain8", "last.safetensors"), "no run starts after the stop")
	// Second: in plain8 at step 8, inside a window of the curve.
	trained = nil
	ctx, cancel = context.WithCancel(context.Background())
	require.Error(t, plan(stopped, "plain8", "epoch 1 step 8", cancel).Execute(ctx))
	require.Contains(t, trained[0], "resnet8 --quiet")
	require.Contains(t, trained[0], "--resume")
	_, done, _ := runlog.ReadDone(filepath.Join(stopped, "resnet8"))
	require.True(t, done)
	_, done, _ = runlog.ReadDone(filepath.Join(stopped, "plain8"))
	require.False(t, done)
	require.Equal(t, "8", stepOf(t, filepath.Join(stopped, "plain8", "last.safetensors")))

	trained = nil
	require.NoError(t, plan(stopped, "", "", nil).Execute(context.Background()))
	require.Len(t, trained, 1, "only the stopped run trains again")
	require.Contains(t, trained[0], "plain8 --quiet")
	require.Contains(t, trained[0], "--resume")

	for _, r := range runs {
		sameCheckpoints(t, filepath.Join(whole, r.Name, "last.safetensors"), filepath.Join(stopped, r.Name, "last.safetensors"))
		ca, _, err := runlog.Points(filepath.Join(whole, r.Name, runlog.CurveFile))
		require.NoError(t, err)
		cb, _, err := runlog.Points(filepath.Join(stopped, r.Name, runlog.CurveFile))
		require.NoError(t, err)
		require.Equal(t, ca, cb, r.Name)
		require.Equal(t, 0.01, ca[0].LR, "warming up")
		require.Equal(t, 0.05, ca[1].LR, "warm-up over after the first window")
		ea, _, _ := runlog.Epochs(filepath.Join(whole, r.Name, runlog.MetricsFile))
		eb, _, _ := runlog.Epochs(filepath.Join(stopped, r.Name, runlog.MetricsFile))
		require.Equal(t, len(ea), len(eb))
		for i := range ea {
			ea[i].Seconds, eb[i].Seconds, ea[i].ImagesPS, eb[i].ImagesPS = 0, 0, 0, 0
		}
		require.Equal(t, ea, eb, r.Name)
	}
}

// cancelAt passes writes through and cancels once it has seen at.
type cancelAt struct {
	w      io.Writer
	at     string
	seen   bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.seen.Write(p)
	if strings.Contains(c.seen.String(), c.at) {
		c.cancel()
	}
	return c.w.Write(p)
}

// TestExperimentDevices: with --gpus naming a device twice, two runs
// train at once in this process, and each ends exactly as when the runs
// take turns.
func TestExperimentDevices(t *testing.T) {
	data := fakeData(t, 80)
	dirs := map[string]string{"": t.TempDir(), "0,0": t.TempDir()}
	for gpus, dir := range dirs {
		args := []string{"experiment", "vgg-vs-resnet", "--only", "resnet20,resnet56", "--iters", "4", "--out", dir,
			"--data", data, "--batch", "8", "--val", "16", "--log-every", "2", "--validate"}
		if gpus != "" {
			args = append(args, "--gpus", gpus)
		}
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), args, &out, &out), out.String())
		if gpus != "" {
			require.Contains(t, out.String(), "on GPU 0")
		}
	}
	for _, name := range []string{"resnet20", "resnet56"} {
		sameCheckpoints(t, filepath.Join(dirs[""], name, "last.safetensors"), filepath.Join(dirs["0,0"], name, "last.safetensors"))
	}
}

// sameCheckpoints requires two checkpoints' tensors to be equal bit for bit.
func sameCheckpoints(t *testing.T, pathA, pathB string) {
	t.Helper()
	a, err := checkpoint.Load(pathA)
	require.NoError(t, err)
	b, err := checkpoint.Load(pathB)
	require.NoError(t, err)
	require.Equal(t, len(a.Tensors), len(b.Tensors))
	for i, ta := range a.Tensors {
		tb := b.Tensors[i]
		require.Equal(t, ta.Name, tb.Name)
		require.Equal(t, ta.Shape, tb.Shape, ta.Name)
		for j := range ta.Data {
			if math.Float32bits(ta.Data[j]) != math.Float32bits(tb.Data[j]) {
				t.Fatalf("%s[%d]: %v in %s, %v in %s", ta.Name, j, ta.Data[j], pathA, tb.Data[j], pathB)
			}
		}
	}
}

// TestExperimentFlags: bad flags are refused before anything trains,
// naming the flag; -h prints the experiments.
func TestExperimentFlags(t *testing.T) {
	cases := map[string]string{
		"":                            "name one: fig6, table6, vgg-vs-resnet",
		"fig7":                        `no experiment "fig7"`,
		"fig6 --bogus":                "unknown flag --bogus",
		"fig6 --gpu 1":                "use --gpus",
		"fig6 --out":                  "flag needs an argument",
		"fig6 --resume":               "the experiment's to set for each run",
		"fig6 --model vgg11":          "the experiment's to set for each run",
		"fig6 --depths 21":            "--depths: 21 is not 6n+2",
		"fig6 --gpus a":               "--gpus",
		"fig6 --iters 0":              "--iters 0",
		"fig6 --epochs -1":            "--epochs -1",
		"fig6 --lr -1":                "run plain20: --lr -1",
		"fig6 --data":                 "flag needs an argument: -data",
		"fig6 --warmup maybe":         "--warmup",
		"fig6 --only resnet21":        "not a run of this experiment",
		"fig6 --milestones 1.5":       "--milestones",
		"fig6 --gpus 7":               "--gpus: device 7 is out of range",
		"fig6 stray":                  `unexpected argument "stray"`,
		"fig6 --depths 20,20":         "--depths: 20 twice",
		"fig6 --only plain20,plain20": "--only names plain20 twice",
		"fig6 --shortcut B":           "run plain20: --shortcut B",
		"fig6 --milestones NaN%":      "--milestones",
	}
	for args, want := range cases {
		err := run(context.Background(), append([]string{"experiment"}, strings.Fields(args)...), io.Discard, io.Discard)
		require.ErrorContains(t, err, want, args)
	}
	var help bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"experiment", "fig6", "-h"}, io.Discard, &help), flag.ErrHelp)
	require.Contains(t, help.String(), "vgg-vs-resnet")
	require.ErrorIs(t, run(context.Background(), []string{"experiment", "--help"}, io.Discard, &help), flag.ErrHelp)
}
