package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/vknn/vknn/runlog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
)

func fakeData(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cifar-10-binary.tar.gz")
	require.NoError(t, cifar.WriteArchive(path, []*data.Set{cifar.Synthetic(n, 3)}, cifar.Synthetic(32, 4)))
	return path
}

// TestSmoke trains ResNet-20 for a few steps on a small generated
// CIFAR-format archive through the command, then checks what it leaves:
// checkpoints that load, the metrics, the plot, and a falling loss.
func TestSmoke(t *testing.T) {
	data := fakeData(t, 208)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"--data", data, "--out", out, "--batch", "16", "--val", "48", "--epochs", "3",
		"--lr", "0.02", "--quiet", "--validate"}
	err := run(context.Background(), args, &stdout, &stderr)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	t.Log(stdout.String())
	require.Contains(t, stdout.String(), "269722 parameters")
	require.Contains(t, stdout.String(), "test accuracy")

	for _, name := range []string{"last.safetensors", "best.safetensors", "metrics.jsonl", "errors.png"} {
		st, err := os.Stat(filepath.Join(out, name))
		require.NoError(t, err, name)
		require.Positive(t, st.Size(), name)
	}
	f, err := checkpoint.Load(filepath.Join(out, "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "30", f.Metadata["step"])
	require.Equal(t, "resnet20", f.Metadata["arch"])
	m, _, err := runlog.Epochs(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	require.Len(t, m, 3)
	require.Less(t, m[2].TrainLoss, m[0].TrainLoss, "the training loss fell")
	require.NotNil(t, m[2].ValErr)
	require.NotNil(t, m[2].TestErr)

	// Resuming a finished run has nothing to do; asking for more epochs continues it.
	stdout.Reset()
	require.NoError(t, run(context.Background(), append(args, "--resume"), &stdout, &stderr))
	require.Contains(t, stdout.String(), "nothing to do")
	stdout.Reset()
	more := append(append([]string{}, args...), "--resume", "--epochs", "4")
	require.NoError(t, run(context.Background(), more, &stdout, &stderr))
	require.Contains(t, stdout.String(), "resuming")
	m, _, err = runlog.Epochs(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	require.Len(t, m, 4)
}

func TestBadFlags(t *testing.T) {
	data := fakeData(t, 40)
	cases := map[string]string{
		"--batch 0":      "--batch 0",
		"--lr -1":        "--lr -1",
		"--depth 21":     "--depth 21",
		"--shortcut C":   "--shortcut",
		"--gpu 7":        "out of range",
		"--val 40":       "leaves no training images",
		"--batch 64":     "larger than the",
		"--milestones x": "--milestones",
		"--momentum 1":   "--momentum",
		"--no-such-flag": "not defined",
	}
	for flags, want := range cases {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--batch", "8", "--data", data, "--out", t.TempDir(), "--iters", "1", "--quiet", "--val", "8"}, strings.Fields(flags)...)
		if flags == "--val 40" {
			args = append(strings.Fields(flags), "--data", data, "--iters", "1")
		}
		err := run(context.Background(), args, &stdout, &stderr)
		require.Error(t, err, flags)
		require.Contains(t, err.Error()+stderr.String(), want, flags)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--data", filepath.Join(t.TempDir(), "none.tar.gz")}, &stdout, &stderr)
	require.ErrorContains(t, err, "no such file")
	err = run(context.Background(), []string{"--resume", "--batch", "8", "--data", data, "--out", t.TempDir(), "--val", "8"}, &stdout, &stderr)
	require.ErrorContains(t, err, "--resume")
}

func TestListGPUs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--list-gpus"}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "0: ")
	require.Contains(t, stdout.String(), "workgroup")
}

// TestResumeIsExact stops a run after 3 steps, resumes it to 6, and
// compares the weights with an uninterrupted 6-step run: bitwise on the
// CPU path and on the GPU path (both are deterministic).
func TestResumeIsExact(t *testing.T) {
	data := fakeData(t, 208)
	for _, path := range []string{"--cpu", "--gpu=0"} {
		t.Run(path, func(t *testing.T) {
			common := []string{path, "--data", data, "--batch", "8", "--val", "48", "--depth", "8",
				"--lr", "0.05", "--milestones", "4", "--quiet", "--seed", "3"}
			var sink bytes.Buffer
			whole, parts := t.TempDir(), t.TempDir()
			require.NoError(t, run(context.Background(), append(common, "--out", whole, "--iters", "6"), &sink, &sink), sink.String())
			require.NoError(t, run(context.Background(), append(common, "--out", parts, "--iters", "3"), &sink, &sink), sink.String())
			require.NoError(t, run(context.Background(), append(common, "--out", parts, "--iters", "6", "--resume"), &sink, &sink), sink.String())
			a, err := checkpoint.Load(filepath.Join(whole, "last.safetensors"))
			require.NoError(t, err)
			b, err := checkpoint.Load(filepath.Join(parts, "last.safetensors"))
			require.NoError(t, err)
			require.Equal(t, "6", b.Metadata["step"])
			require.Equal(t, len(a.Tensors), len(b.Tensors))
			for i := range a.Tensors {
				require.Equal(t, a.Tensors[i].Name, b.Tensors[i].Name)
				require.Equal(t, a.Tensors[i].Data, b.Tensors[i].Data, "%s differs after resuming", a.Tensors[i].Name)
			}
		})
	}
}

// TestDivergenceStops: a loss that turns NaN or Inf stops the run with an
// error naming the last good checkpoint, which stays loadable.
func TestDivergenceStops(t *testing.T) {
	data := fakeData(t, 208)
	out := t.TempDir()
	var sink bytes.Buffer
	common := []string{"--data", data, "--batch", "8", "--val", "48", "--depth", "8", "--quiet", "--out", out}
	require.NoError(t, run(context.Background(), append(common, "--iters", "2"), &sink, &sink))
	diverge := append(common, "--resume", "--lr", "1e30", "--wd", "0", "--allow-changes")
	divErr := run(context.Background(), append(diverge, "--iters", "40"), &sink, &sink)
	require.Error(t, divErr)
	require.ErrorContains(t, divErr, "diverged")
	f, err := checkpoint.Load(filepath.Join(out, "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "2", f.Metadata["step"])

	// "the training loss is NaN at step N" counts as the progress line
	// does: a run of N-1 steps has finite training losses (its validation
	// may be NaN), one of N stops at step N.
	var n int
	msg := divErr.Error()
	_, err = fmt.Sscanf(msg[max(strings.Index(msg, "at step "), 0):], "at step %d", &n)
	require.NoError(t, err, msg)
	require.Greater(t, n, 2, "the first step after resuming at 2 is step 3")
	if n > 3 {
		err = run(context.Background(), append(diverge, "--iters", strconv.Itoa(n-1)), &sink, &sink)
		if err != nil {
			require.NotContains(t, err.Error(), "training loss")
		}
	}
	err = run(context.Background(), append(diverge, "--iters", strconv.Itoa(n)), &sink, &sink)
	require.ErrorContains(t, err, fmt.Sprintf("the training loss is NaN at step %d:", n))
}

// TestRollbackOnNaN: with --on-nan rollback a diverging run goes back to
// its last checkpoint with a tenth of the learning rate, at most 3 times,
// then stops keeping that checkpoint.
func TestRollbackOnNaN(t *testing.T) {
	data := fakeData(t, 208)
	out := t.TempDir()
	var sink bytes.Buffer
	args := []string{"--data", data, "--batch", "8", "--val", "48", "--depth", "8", "--quiet", "--out", out,
		"--iters", "8", "--lr", "1e35", "--on-nan", "rollback"}
	err := run(context.Background(), args, &sink, &sink)
	require.ErrorContains(t, err, "diverged")
	require.Equal(t, maxRollbacks, strings.Count(sink.String(), "rolled back to step 0"), sink.String())
	require.Contains(t, sink.String(), "divided by 1000")
	f, err := checkpoint.Load(filepath.Join(out, "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "0", f.Metadata["step"], "the last good checkpoint is kept")
}

// TestDeviceLost: a lost device stops the run, says how to resume, and
// leaves the last checkpoint loadable.
func TestDeviceLost(t *testing.T) {
	data := fakeData(t, 208)
	out := t.TempDir()
	var sink bytes.Buffer
	t.Setenv("VKNN_FAULT", "device-lost:40") // in epoch 2: 1 zeroing + 20 steps + 10 evals, then 9 steps
	args := []string{"--data", data, "--batch", "8", "--val", "48", "--depth", "8", "--quiet", "--out", out, "--epochs", "3"}
	err := run(context.Background(), args, &sink, &sink)
	require.ErrorContains(t, err, "device was lost")
	require.ErrorContains(t, err, "--resume")
	f, err := checkpoint.Load(filepath.Join(out, "last.safetensors"))
	require.NoError(t, err)
	require.Equal(t, "20", f.Metadata["step"], "the epoch-1 checkpoint")
	t.Setenv("VKNN_FAULT", "")
	require.NoError(t, run(context.Background(), append(args, "--resume"), &sink, &sink))
}

// TestInterrupt: cancelled (Ctrl-C) before training begins, a run writes
// nothing (TestSignals stops runs under way).
func TestInterrupt(t *testing.T) {
	data := fakeData(t, 208)
	out := t.TempDir()
	var sink bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	args := []string{"--data", data, "--batch", "8", "--val", "48", "--depth", "8", "--quiet", "--out", out, "--iters", "5"}
	var in *interrupted
	require.ErrorAs(t, run(ctx, args, &sink, &sink), &in)
	require.Contains(t, sink.String(), "interrupted before training began; nothing was written")
	require.NoFileExists(t, filepath.Join(out, "last.safetensors"))
}

// TestAllImagesWithTestSet: with a test set and no --val, train uses
// every training image and says so, as the paper's final runs did; --val
// still holds images out.
func TestAllImagesWithTestSet(t *testing.T) {
	data := fakeData(t, 40)
	var out bytes.Buffer
	args := []string{"--data", data, "--batch", "8", "--depth", "8", "--quiet", "--iters", "1", "--out", t.TempDir()}
	require.NoError(t, run(context.Background(), args, &out, &out), out.String())
	require.Contains(t, out.String(), "a test set is present: training on all the training images")
	require.Contains(t, out.String(), "40 training, 0 validation, 32 test images")
	out.Reset()
	require.NoError(t, run(context.Background(), append(args[:len(args)-1], t.TempDir(), "--val", "8"), &out, &out), out.String())
	require.Contains(t, out.String(), "32 training, 8 validation, 32 test images")
}
