// Package runlog reads and writes what a training run leaves in its
// folder besides checkpoints: one line per epoch (metrics.jsonl), the
// training error every few steps (curve.jsonl) and, once the run has
// ended, a marker (done.json). The trainer writes them; plots, tables
// and experiments read them.
package runlog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The files of a run's folder.
const (
	MetricsFile = "metrics.jsonl"
	CurveFile   = "curve.jsonl"
	DoneFile    = "done.json"
)

// Epoch is one line of metrics.jsonl: an epoch's training figures and the
// held-out sets' error after it. LR is the epoch's first learning rate;
// Seconds its training time (evaluation excluded).
type Epoch struct {
	Epoch     int      `json:"epoch"`
	Step      int      `json:"step"`
	LR        float64  `json:"lr"`
	TrainLoss float64  `json:"train_loss"`
	TrainErr  float64  `json:"train_err"`
	ValLoss   *float64 `json:"val_loss,omitempty"`
	ValErr    *float64 `json:"val_err,omitempty"`
	TestLoss  *float64 `json:"test_loss,omitempty"`
	TestErr   *float64 `json:"test_err,omitempty"`
	Seconds   float64  `json:"seconds"`
	ImagesPS  float64  `json:"images_per_s"`
}

// Point is one line of curve.jsonl: the training loss and error averaged
// over the Steps steps that end at Step (a running mean over a window, so
// that a short run's curve has a shape), and the last step's LR.
type Point struct {
	Step      int     `json:"step"`
	Steps     int     `json:"steps"`
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
	TrainErr  float64 `json:"train_err"`
}

// Done is done.json: the run reached its last step.
type Done struct {
	Steps         int `json:"steps"`
	StepsPerEpoch int `json:"steps_per_epoch"`
}

// Append appends v to path as one JSON line.
func Append(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Epochs reads metrics.jsonl (see read).
func Epochs(path string) ([]Epoch, int, error) {
	return read(path, func(e Epoch) int { return e.Step })
}

// Points reads curve.jsonl (see read).
func Points(path string) ([]Point, int, error) {
	return read(path, func(p Point) int { return p.Step })
}

// read reads a file of JSON lines, each at a step. A run resumed from a
// checkpoint older than the last lines written redoes their steps: when a
// step comes again, the lines from it on are replaced by the new ones.
// Lines that do not parse (a damaged file) are skipped and counted.
func read[T any](path string, step func(T) int) (out []T, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil || step(v) <= 0 {
			skipped++
			continue
		}
		for len(out) > 0 && step(out[len(out)-1]) >= step(v) {
			out = out[:len(out)-1]
		}
		out = append(out, v)
	}
	return out, skipped, sc.Err()
}

// MarkDone writes dir/done.json.
func MarkDone(dir string, d Done) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, DoneFile), append(b, '\n'), 0o644)
}

// ReadDone reads dir/done.json; ok is false when the run has not ended.
func ReadDone(dir string) (d Done, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, DoneFile))
	if errors.Is(err, os.ErrNotExist) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, false, fmt.Errorf("%s: %w", filepath.Join(dir, DoneFile), err)
	}
	return d, true, nil
}
