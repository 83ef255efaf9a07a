package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/runlog"
)

// The tests here are the cases of the README's fault table, each run
// through the command as a user would. small is `train --data D --batch 8
// --val 16` on a 64-image archive, ResNet-8.
func small(t *testing.T, data, out string, more ...string) []string {
	t.Helper()
	return append([]string{"--data", data, "--batch", "8", "--val", "16", "--depth", "8", "--quiet", "--out", out}, more...)
}

func runCapture(args []string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func stepOf(t *testing.T, path string) string {
	t.Helper()
	f, err := checkpoint.Load(path)
	require.NoError(t, err)
	return f.Metadata["step"]
}

// TestRunAgainRefused: a second run into a folder that holds one is
// refused, naming it and the ways on, and leaves it untouched;
// --overwrite starts anew.
func TestRunAgainRefused(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	_, _, err := runCapture(small(t, data, out, "--iters", "12"))
	require.NoError(t, err)
	metrics, _ := os.ReadFile(filepath.Join(out, runlog.MetricsFile))
	_, _, err = runCapture(small(t, data, out, "--iters", "2", "--seed", "2"))
	require.ErrorContains(t, err, "holds a run (last.safetensors of resnet8 at step 12")
	require.ErrorContains(t, err, "--resume")
	require.ErrorContains(t, err, "--overwrite")
	require.Equal(t, "12", stepOf(t, filepath.Join(out, lastFile)), "the run is untouched")
	after, _ := os.ReadFile(filepath.Join(out, runlog.MetricsFile))
	require.Equal(t, metrics, after)

	_, _, err = runCapture(small(t, data, out, "--iters", "2", "--seed", "2", "--overwrite"))
	require.NoError(t, err)
	require.Equal(t, "2", stepOf(t, filepath.Join(out, lastFile)))
	m, _, err := runlog.Epochs(filepath.Join(out, runlog.MetricsFile))
	require.NoError(t, err)
	require.Len(t, m, 1, "the old run's metrics are gone")

	_, _, err = runCapture(small(t, data, t.TempDir(), "--resume"))
	require.ErrorContains(t, err, "holds no run to continue")
}

// TestEvalNaN: a validation loss that is NaN while the training loss is
// finite is a divergence like any other: stopped by --on-nan, the last
// good checkpoint kept, no crash on writing the metrics.
func TestEvalNaN(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	_, _, err := runCapture(small(t, data, out, "--lr", "1e30", "--iters", "1"))
	require.ErrorContains(t, err, "the validation loss is NaN at step 1: training diverged")
	require.Equal(t, "0", stepOf(t, filepath.Join(out, lastFile)))
	stdout, _, err := runCapture(small(t, data, out, "--lr", "1e30", "--iters", "1", "--overwrite", "--on-nan", "rollback"))
	require.ErrorContains(t, err, "diverged")
	require.Contains(t, stdout, "the validation loss is NaN at step 1: rolled back to step 0")
}

// TestLocked: a second train on a folder in use is refused, saying by
// whom; the lock goes with the process that held it.
func TestLocked(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	lock, err := lockDir(out)
	require.NoError(t, err)
	_, _, err = runCapture(small(t, data, out, "--iters", "1"))
	require.ErrorContains(t, err, "another train is using "+out+" (pid ")
	require.NoFileExists(t, filepath.Join(out, lastFile))
	lock.Close() // as when the process holding it ends, however it ends
	_, _, err = runCapture(small(t, data, out, "--iters", "1"))
	require.NoError(t, err)
}

// TestDamagedMetrics: a damaged metrics.jsonl line costs a warning, not
// the run.
func TestDamagedMetrics(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	_, _, err := runCapture(small(t, data, out, "--epochs", "1"))
	require.NoError(t, err)
	f, err := os.OpenFile(filepath.Join(out, runlog.MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	f.WriteString("{\"epoch\": 2, \"step\": garbage\n")
	f.Close()
	_, stderr, err := runCapture(small(t, data, out, "--epochs", "3", "--resume"))
	require.NoError(t, err)
	require.Contains(t, stderr, "skipped 1 damaged line")
	require.Equal(t, "18", stepOf(t, filepath.Join(out, lastFile)), "all three epochs ran")
}

// TestFlagValues: values that would overflow, and non-numbers, are
// refused; --shortcut applies to ResNets only.
func TestFlagValues(t *testing.T) {
	data := fakeData(t, 64)
	for flags, want := range map[string]string{
		"--epochs 9223372036854775807": "--epochs 9223372036854775807: too many",
		"--lr Inf":                     "--lr +Inf",
		"--lr NaN":                     "--lr NaN",
		"--momentum NaN":               "--momentum NaN",
		"--wd NaN":                     "--wd NaN",
		"--wd Inf":                     "--wd +Inf",
		"--plain --shortcut B":         "plain8 has no shortcuts",
		"--resume --overwrite":         "not both",
	} {
		_, _, err := runCapture(small(t, data, t.TempDir(), strings.Fields(flags)...))
		require.ErrorContains(t, err, want, flags)
	}
	_, _, err := runCapture([]string{"--data", data, "--model", "vgg11", "--shortcut", "B", "--out", t.TempDir()})
	require.ErrorContains(t, err, "vgg11 has no shortcuts")
}

// TestSummaryNamesSavedFiles: with no validation split there is no best
// checkpoint, and the summary does not name one.
func TestSummaryNamesSavedFiles(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	args := []string{"--data", data, "--batch", "8", "--val", "0", "--depth", "8", "--quiet", "--out", out, "--iters", "2"}
	stdout, _, err := runCapture(args)
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(out, bestFile))
	require.Contains(t, stdout, "checkpoints: "+filepath.Join(out, lastFile)+";")
	require.NotContains(t, stdout, bestFile)
}

// TestResumeChanges: a resume with other hyperparameters or data than the
// run's says what changed and is refused, unless --allow-changes.
func TestResumeChanges(t *testing.T) {
	data, other, out := fakeData(t, 64), fakeData(t, 72), t.TempDir()
	_, _, err := runCapture(small(t, data, out, "--iters", "2"))
	require.NoError(t, err)
	for flags, want := range map[string]string{
		"--lr 0.05":         "--lr: 0.1 in the run, 0.05 now",
		"--milestones 1":    "--milestones: 32000,48000 in the run, 1 now",
		"--momentum 0.5":    "--momentum: 0.9 in the run, 0.5 now",
		"--wd 0.001":        "--wd: 0.0001 in the run, 0.001 now",
		"--val 8":           "--val: 16 in the run, 8 now",
		"--data " + other:   "the data: 64 images, crc32",
		"--optimizer adamw": "--optimizer: sgd in the run, adamw now",
		"--seed 9":          "--seed: 1 in the run, 9 now",
	} {
		_, _, err := runCapture(append(small(t, data, out, "--iters", "4", "--resume"), strings.Fields(flags)...))
		require.ErrorContains(t, err, want, flags)
		require.ErrorContains(t, err, "--allow-changes", flags)
		require.Equal(t, "2", stepOf(t, filepath.Join(out, lastFile)))
	}
	stdout, _, err := runCapture(small(t, data, out, "--iters", "4", "--resume", "--lr", "0.05", "--allow-changes"))
	require.NoError(t, err)
	require.Contains(t, stdout, "--allow-changes: continuing with\n  --lr: 0.1 in the run, 0.05 now")
	_, _, err = runCapture(small(t, data, out, "--iters", "6", "--resume"))
	require.ErrorContains(t, err, "--lr: 0.05 in the run, 0.1 now", "the change is the run's recipe now")
}

// TestOutNotWritable: a folder that cannot be written is found before
// training, not at the first save.
func TestOutNotWritable(t *testing.T) {
	data := fakeData(t, 64)
	_, _, err := runCapture(small(t, data, "/proc/self/fdinfo", "--iters", "1"))
	require.ErrorContains(t, err, "--out /proc/self/fdinfo is not writable")
}

// TestProgressToFile: with stderr not a terminal the progress is plain
// lines, without carriage returns.
func TestProgressToFile(t *testing.T) {
	data, out := fakeData(t, 64), t.TempDir()
	args := []string{"--data", data, "--batch", "8", "--val", "16", "--depth", "8", "--out", out, "--iters", "3"}
	_, stderr, err := runCapture(args)
	require.NoError(t, err)
	require.NotContains(t, stderr, "\r")
	require.Contains(t, stderr, "step 3/3: epoch 1 loss")
}
