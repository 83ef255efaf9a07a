package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/infer"
)

// recipe is what a run was started with beyond its model: each checkpoint
// records it, and --resume compares the flags given with it.
func (s *session) recipe() map[string]string {
	o := s.o
	ms := make([]string, len(o.milestones))
	for i, m := range o.milestones {
		ms[i] = strconv.Itoa(m)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return map[string]string{
		"seed": strconv.FormatUint(o.seed, 10), "batch": strconv.Itoa(o.batch), "optimizer": o.optName,
		"lr": f(o.lr), "milestones": strings.Join(ms, ","), "momentum": f(o.momentum), "wd": f(o.wd),
		"nesterov": strconv.FormatBool(o.nesterov), "no-decay-norm-bias": strconv.FormatBool(o.noDecayNB),
		"val": strconv.Itoa(o.val), "data": s.dataID, "labels": o.labels, "image-size": strconv.Itoa(o.imageSize),
		"warmup": o.warmup, "warmup-lr": f(o.warmLR), "warmup-below": f(o.warmBelow), "log-every": strconv.Itoa(o.logEvery),
	}
}

// changes lists how the flags given differ from the run's recipe in f
// (keys the checkpoint does not record are not compared: older runs).
func (s *session) changes(f *checkpoint.File) []string {
	var out []string
	for k, now := range s.recipe() {
		if was, ok := f.Metadata[k]; ok && was != now {
			flag := "--" + k
			if k == "data" {
				flag = "the data"
			}
			out = append(out, fmt.Sprintf("%s: %s in the run, %s now", flag, was, now))
		}
	}
	sort.Strings(out)
	return out
}

// initWeights initialises or, with --resume, restores the run, returning
// the step to start from. A resume with other flags than the run's is
// refused, naming them, unless --allow-changes.
func (s *session) initWeights() (int, error) {
	if !s.o.resume {
		return 0, s.stepper.SetState(s.model.Init(s.o.seed))
	}
	f, step, err := s.restoreLast()
	if err != nil {
		return 0, fmt.Errorf("--resume: %w", err)
	}
	if ch := s.changes(f); len(ch) > 0 {
		if !s.o.allowChanges {
			return 0, fmt.Errorf("--resume: the flags differ from the run's:\n  %s\npass the run's values, or --allow-changes to continue with these (the run will then not match an uninterrupted one)",
				strings.Join(ch, "\n  "))
		}
		fmt.Fprintf(s.out, "--allow-changes: continuing with\n  %s\n", strings.Join(ch, "\n  "))
	}
	s.best, _ = strconv.ParseFloat(f.Metadata["best_val_acc"], 64)
	if v, err := strconv.ParseFloat(f.Metadata["lr_scale"], 64); err == nil && v > 0 {
		s.sched.scale = v
	}
	if err := s.restoreWindow(f.Metadata); err != nil {
		return 0, fmt.Errorf("--resume: %s: %w", s.lastPath(), err)
	}
	fmt.Fprintf(s.out, "resuming %s at step %d\n", s.lastPath(), step)
	return step, nil
}

// restoreLast loads the last checkpoint onto the stepper and returns it
// with its step.
func (s *session) restoreLast() (*checkpoint.File, int, error) {
	f, err := checkpoint.Load(s.lastPath())
	if err != nil {
		return nil, 0, err
	}
	st, err := s.model.Restore(f, s.opt)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", s.lastPath(), err)
	}
	step, err := strconv.Atoi(f.Metadata["step"])
	if err != nil || step < 0 {
		return nil, 0, fmt.Errorf("%s has no valid step", s.lastPath())
	}
	return f, step, s.stepper.SetState(st)
}

// save writes a checkpoint of the current state at step.
func (s *session) save(path string, step int) error {
	st, err := s.stepper.State()
	if err != nil {
		return err
	}
	meta := s.recipe()
	for k, v := range infer.Describe(s.norm, s.classes, s.model.Input) {
		meta[k] = v
	}
	meta["step"] = strconv.Itoa(step)
	meta["best_val_acc"] = strconv.FormatFloat(s.best, 'g', -1, 64)
	meta["lr_scale"] = strconv.FormatFloat(s.sched.scale, 'g', -1, 64)
	meta["warmup_end"] = strconv.Itoa(s.sched.warmEnd)
	w, e, g := s.window, s.ep, func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	meta["window"] = fmt.Sprintf("%d %d %d %s", w.steps, w.correct, w.images, g(w.loss))
	meta["epoch_so_far"] = fmt.Sprintf("%d %d %s %s %s", e.images, e.correct, g(e.loss), g(e.firstLR), g(e.seconds()))
	f, err := s.model.Checkpoint(st, s.opt, meta)
	if err != nil {
		return err
	}
	return checkpoint.Save(path, f)
}

// exists tells whether path names a file.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// restoreWindow takes the warm-up's end, the curve's open window and the
// epoch's figures so far from a checkpoint's metadata, so that a resumed
// run continues exactly. A checkpoint older than them starts a fresh
// window and epoch figures; its run had no warm-up.
func (s *session) restoreWindow(meta map[string]string) error {
	s.window, s.ep = window{}, epochStats{}
	if v, ok := meta["warmup_end"]; ok {
		end, err := strconv.Atoi(v)
		if err != nil || end < -1 {
			return fmt.Errorf("warmup_end %q is not a step", v)
		}
		s.sched.warmEnd = end
	} else {
		s.sched.warmEnd = 0
	}
	if v, ok := meta["window"]; ok {
		w := &s.window
		if n, err := fmt.Sscanf(v, "%d %d %d %g", &w.steps, &w.correct, &w.images, &w.loss); n != 4 || err != nil ||
			w.steps < 0 || w.correct < 0 || w.images < w.correct || !finite(w.loss) {
			*w = window{}
			return fmt.Errorf("window %q is not the curve's state", v)
		}
	}
	if v, ok := meta["epoch_so_far"]; ok {
		e := &s.ep
		if n, err := fmt.Sscanf(v, "%d %d %g %g %g", &e.images, &e.correct, &e.loss, &e.firstLR, &e.prior); n != 5 || err != nil ||
			e.images < e.correct || e.correct < 0 || !finite(e.loss) || !finite(e.firstLR) || !finite(e.prior) {
			*e = epochStats{}
			return fmt.Errorf("epoch_so_far %q is not an epoch's figures", v)
		}
	}
	return nil
}
