package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/zoo"
)

// session is one training run.
type session struct {
	o       *options
	out     io.Writer
	model   *nn.Model
	opt     nn.Optimizer
	stepper nn.Executor
	mgr     *gpu.Manager
	loader  *cifar.Loader
	valX    []float32
	valY    []int32
	testX   []float32
	testY   []int32
	dir     string
	best    float64 // best validation accuracy so far
	total   int     // steps in the run
	lrScale float64 // 1, divided by 10 at each rollback after a NaN
	rolled  int     // rollbacks so far
}

// rollback asks train to restart the loop from a checkpoint's step.
type rollback struct{ step int }

func (r *rollback) Error() string { return fmt.Sprintf("rolled back to step %d", r.step) }

const maxRollbacks = 3

// lrAt is the learning rate at a step: divided by 10 at each milestone.
func (s *session) lrAt(step int) float64 {
	lr := s.o.lr * s.lrScale
	for _, m := range s.o.milestones {
		if step >= m {
			lr /= 10
		}
	}
	return lr
}

func train(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	model, err := zoo.ByName(o.model, o.shortcut[0], cifar.Classes)
	if err != nil {
		return err
	}
	s := &session{o: o, out: stdout, model: model, opt: o.optimizer(), dir: o.out, lrScale: 1}
	if s.dir == "" {
		s.dir = filepath.Join("runs", model.Name)
	}

	// Data first: it is what fails most often, and fails fast.
	var fetch *cifar.Fetcher
	if o.data == "" {
		fetch = cifar.Official()
		fetch.Progress = stderr
	}
	path, err := cifar.Resolve(ctx, o.data, fetch)
	if err != nil {
		return err
	}
	data, err := cifar.Load(path)
	if err != nil {
		return err
	}
	if o.val >= data.Train.Len() {
		return fmt.Errorf("--val %d leaves no training images out of %d", o.val, data.Train.Len())
	}
	trainSet, valSet, err := cifar.Split(data.Train, o.val)
	if err != nil {
		return err
	}
	if trainSet.Len() < o.batch {
		return fmt.Errorf("--batch %d is larger than the %d training images", o.batch, trainSet.Len())
	}
	norm := cifar.Stats(trainSet)
	s.loader = &cifar.Loader{Set: trainSet, Norm: norm, Aug: cifar.PaperAugment, Batch: o.batch, Seed: o.seed}
	s.valX, s.valY = cifar.Normalized(valSet, norm)
	if data.Test != nil {
		s.testX, s.testY = cifar.Normalized(data.Test, norm)
	}
	s.total = o.iters
	if o.epochs > 0 {
		s.total = o.epochs * s.loader.StepsPerEpoch()
	}
	fmt.Fprintf(stdout, "data: %s: %d training, %d validation, ", path, trainSet.Len(), valSet.Len())
	if data.Test != nil {
		fmt.Fprintf(stdout, "%d test images\n", data.Test.Len())
	} else {
		fmt.Fprintln(stdout, "no test_batch.bin: reporting validation only")
	}

	if err := s.open(); err != nil {
		return err
	}
	if s.mgr != nil {
		defer s.mgr.Close()
	}
	if !o.quiet {
		fmt.Fprint(stdout, model.Summary())
	}
	fmt.Fprintf(stdout, "model: %s, %d parameters (%.2fM), %.1f MFLOPs a forward pass\n", model.Name, model.Count(), float64(model.Count())/1e6, model.FLOPs()/1e6)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	start, err := s.initWeights()
	if err != nil {
		return err
	}
	if !o.resume {
		// A checkpoint from the start, so that there is always one to go
		// back to.
		if err := s.save(s.lastPath(), 0); err != nil {
			return err
		}
	}
	for {
		err := s.loop(ctx, start, stderr)
		var rb *rollback
		if !errors.As(err, &rb) {
			return err
		}
		start = rb.step
	}
}

// open makes the stepper: the GPU trainer on --gpu, or the CPU reference.
func (s *session) open() error {
	opts := nn.Options{Seed: s.o.seed, Profile: s.o.profile}
	if s.o.cpu {
		fmt.Fprintln(s.out, "device: CPU reference path")
		var err error
		s.stepper, err = nn.NewCPU(s.model, s.opt, s.o.batch, opts)
		return err
	}
	m, err := gpu.Open(s.o.gpu, gpu.Options{Validate: s.o.validate})
	if err != nil {
		return err
	}
	s.mgr = m
	fmt.Fprintf(s.out, "device %d: %s (%s)\n", s.o.gpu, m.Info().Name, m.Info().Type)
	t, err := nn.NewGPU(m, s.model, s.opt, s.o.batch, opts)
	var ve *gpu.Error
	if errors.As(err, &ve) && ve.OutOfMemory() {
		return fmt.Errorf("preparing %s at batch %d: %w\nthe batch does not fit this device: try a smaller --batch", s.model.Name, s.o.batch, err)
	}
	if err != nil {
		return fmt.Errorf("preparing %s at batch %d: %w", s.model.Name, s.o.batch, err)
	}
	s.stepper = t
	return nil
}

func (s *session) lastPath() string { return filepath.Join(s.dir, "last.safetensors") }
func (s *session) bestPath() string { return filepath.Join(s.dir, "best.safetensors") }

// initWeights initialises or, with --resume, restores the run, returning
// the step to start from.
func (s *session) initWeights() (int, error) {
	if !s.o.resume {
		return 0, s.stepper.SetState(s.model.Init(s.o.seed))
	}
	f, step, err := s.restoreLast()
	if err != nil {
		return 0, fmt.Errorf("--resume: %w", err)
	}
	for flag, want := range map[string]string{"seed": strconv.FormatUint(s.o.seed, 10), "batch": strconv.Itoa(s.o.batch), "optimizer": s.o.optName} {
		if got := f.Metadata[flag]; got != "" && got != want {
			return 0, fmt.Errorf("--resume: the run used --%s %s, not %s; pass the same flags", flag, got, want)
		}
	}
	s.best, _ = strconv.ParseFloat(f.Metadata["best_val_acc"], 64)
	if v, err := strconv.ParseFloat(f.Metadata["lr_scale"], 64); err == nil && v > 0 {
		s.lrScale = v
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
	meta := map[string]string{"step": strconv.Itoa(step), "seed": strconv.FormatUint(s.o.seed, 10),
		"batch": strconv.Itoa(s.o.batch), "best_val_acc": strconv.FormatFloat(s.best, 'g', -1, 64),
		"lr_scale": strconv.FormatFloat(s.lrScale, 'g', -1, 64), "optimizer": s.o.optName}
	return checkpoint.Save(path, s.model.Checkpoint(st, s.opt, meta))
}

// epochStats accumulates one epoch's training figures.
type epochStats struct {
	loss    float64
	correct int
	images  int
	start   time.Time
	firstLR float64
}

func (s *session) loop(ctx context.Context, start int, stderr io.Writer) error {
	o := s.o
	if start >= s.total {
		fmt.Fprintf(s.out, "nothing to do: the run is at step %d of %d\n", start, s.total)
		return nil
	}
	stop := make(chan struct{})
	defer close(stop)
	batches := s.loader.Stream(start, s.total, 3, stop)
	var bar *progressbar.ProgressBar
	if !o.quiet {
		bar = progressbar.NewOptions(s.total-start, progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionFullWidth())
	}
	runStart := time.Now()
	ep := epochStats{start: time.Now(), firstLR: s.lrAt(start)}
	per := s.loader.StepsPerEpoch()
	step := start
	for b := range batches {
		lr := s.lrAt(step)
		loss, correct, err := s.stepper.Step(b.Images, b.Labels, lr)
		if err != nil {
			return s.fail(step, err)
		}
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return s.diverged(step, loss)
		}
		step++
		ep.loss += float64(loss) * float64(o.batch)
		ep.correct += correct
		ep.images += o.batch
		if bar != nil {
			rate := float64(step-start) * float64(o.batch) / time.Since(runStart).Seconds()
			bar.Describe(fmt.Sprintf("epoch %d loss %.3f lr %g %.0f img/s", b.Epoch+1, loss, lr, rate))
			bar.Add(1)
		}
		if o.profile && step == start+2 {
			s.printProfile()
		}
		if step%per == 0 || step == s.total {
			if err := s.endEpoch(step, (step-1)/per+1, &ep); err != nil {
				return err
			}
			ep = epochStats{start: time.Now(), firstLR: s.lrAt(step)}
		}
		if ctx.Err() != nil {
			if err := s.save(s.lastPath(), step); err != nil {
				return fmt.Errorf("interrupted at step %d, and saving failed: %w", step, err)
			}
			fmt.Fprintf(s.out, "\ninterrupted at step %d; saved %s. Continue with: train --resume --out %s (and the same flags)\n",
				step, s.lastPath(), s.dir)
			return nil
		}
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	return s.summary(start, step, time.Since(runStart))
}

// diverged handles a NaN or infinite loss: stop, keeping the last good
// checkpoint, or (--on-nan rollback) reload it and continue with a tenth
// of the learning rate.
func (s *session) diverged(step int, loss float32) error {
	if s.o.onNaN != "rollback" || s.rolled >= maxRollbacks {
		return fmt.Errorf("the loss is %v at step %d: training diverged; stopped without saving. "+
			"The last good checkpoint is %s (lower --lr and --resume, or use --on-nan rollback)", loss, step, s.lastPath())
	}
	_, back, err := s.restoreLast()
	if err != nil {
		return fmt.Errorf("the loss is %v at step %d, and the rollback failed: %w", loss, step, err)
	}
	s.rolled++
	s.lrScale /= 10
	fmt.Fprintf(s.out, "\nthe loss is %v at step %d: rolled back to step %d with the learning rate divided by %g\n",
		loss, step, back, 1/s.lrScale)
	return &rollback{step: back}
}

// fail reports a failed step; a lost device keeps the last checkpoint.
func (s *session) fail(step int, err error) error {
	var ve *gpu.Error
	if errors.As(err, &ve) && ve.DeviceLost() {
		return fmt.Errorf("the Vulkan device was lost at step %d (%v). The last checkpoint, %s, is intact: "+
			"continue with train --resume --out %s", step, err, s.lastPath(), s.dir)
	}
	return fmt.Errorf("step %d: %w", step, err)
}

// metrics is one line of metrics.jsonl.
type metrics struct {
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

func (s *session) endEpoch(step, epoch int, ep *epochStats) error {
	secs := time.Since(ep.start).Seconds()
	m := metrics{Epoch: epoch, Step: step, LR: ep.firstLR, TrainLoss: ep.loss / float64(ep.images),
		TrainErr: 1 - float64(ep.correct)/float64(ep.images), Seconds: secs, ImagesPS: float64(ep.images) / secs}
	valAcc := -1.0
	if len(s.valY) > 0 {
		l, c, err := s.stepper.Eval(s.valX, s.valY)
		if err != nil {
			return s.fail(step, err)
		}
		e := 1 - float64(c)/float64(len(s.valY))
		m.ValLoss, m.ValErr, valAcc = &l, &e, 1-e
	}
	if len(s.testY) > 0 {
		l, c, err := s.stepper.Eval(s.testX, s.testY)
		if err != nil {
			return s.fail(step, err)
		}
		e := 1 - float64(c)/float64(len(s.testY))
		m.TestLoss, m.TestErr = &l, &e
	}
	line := fmt.Sprintf("epoch %d step %d lr %g train loss %.4f err %.2f%%", epoch, step, m.LR, m.TrainLoss, 100*m.TrainErr)
	if m.ValErr != nil {
		line += fmt.Sprintf(" val loss %.4f err %.2f%%", *m.ValLoss, 100**m.ValErr)
	}
	if m.TestErr != nil {
		line += fmt.Sprintf(" test err %.2f%%", 100**m.TestErr)
	}
	fmt.Fprintf(s.out, "\r%s (%.0fs, %.0f img/s)\n", line, secs, m.ImagesPS)
	if err := appendMetrics(filepath.Join(s.dir, "metrics.jsonl"), m); err != nil {
		return err
	}
	if valAcc > s.best {
		s.best = valAcc
		if err := s.save(s.bestPath(), step); err != nil {
			return fmt.Errorf("saving the best checkpoint: %w (the previous one is intact)", err)
		}
	}
	if err := s.save(s.lastPath(), step); err != nil {
		return fmt.Errorf("saving the checkpoint: %w (the previous one is intact)", err)
	}
	return redraw(s.dir)
}

func (s *session) summary(start, end int, wall time.Duration) error {
	images := float64(end-start) * float64(s.o.batch)
	fmt.Fprintf(s.out, "done: %d steps in %s, %.0f images/s\n", end-start, wall.Round(time.Second), images/wall.Seconds())
	all, err := readMetrics(filepath.Join(s.dir, "metrics.jsonl"))
	if err == nil && len(all) > 0 {
		last := all[len(all)-1]
		if last.ValErr != nil {
			fmt.Fprintf(s.out, "validation accuracy %.2f%% (best %.2f%%)\n", 100*(1-*last.ValErr), 100*s.best)
		}
		if last.TestErr != nil {
			fmt.Fprintf(s.out, "test accuracy %.2f%%\n", 100*(1-*last.TestErr))
		}
	}
	fmt.Fprintf(s.out, "checkpoints: %s, %s; metrics and plot in %s\n", s.lastPath(), s.bestPath(), s.dir)
	return nil
}

// printProfile prints the device time of one step by section.
func (s *session) printProfile() {
	t, ok := s.stepper.(*nn.GPU)
	if !ok {
		return
	}
	tim, err := t.Timings()
	if err != nil || len(tim) == 0 {
		fmt.Fprintln(s.out, "profile: no timestamps on this device")
		return
	}
	bySection := map[string]float64{}
	var total float64
	for _, x := range tim {
		bySection[x.Section] += x.Ns
		total += x.Ns
	}
	names := make([]string, 0, len(bySection))
	for k := range bySection {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return bySection[names[i]] > bySection[names[j]] })
	fmt.Fprintf(s.out, "\nprofile: one step %.1f ms on the device\n", total/1e6)
	for _, k := range names {
		fmt.Fprintf(s.out, "  %-28s %8.2f ms %5.1f%%\n", k, bySection[k]/1e6, 100*bySection[k]/total)
	}
}
