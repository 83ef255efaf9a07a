package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/datasets"
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/runlog"
	"github.com/vknn/vknn/zoo"
)

// session is one training run.
type session struct {
	o       *options
	out     io.Writer // results
	errOut  io.Writer // progress and warnings
	model   *nn.Model
	opt     nn.Optimizer
	stepper nn.Executor
	mgr     *gpu.Manager
	loader  *data.Loader
	norm    data.Norm
	classes []string
	dataID  string
	valX    []float32
	valY    []int32
	testX   []float32
	testY   []int32
	dir     string
	best    float64 // best validation accuracy so far
	total   int     // steps in the run
	sched   schedule
	rolled  int        // rollbacks so far
	window  window     // the training figures since the last point of the curve
	ep      epochStats // the current epoch's
}

// window sums a stretch of steps' training figures for the curve.
type window struct {
	loss            float64
	correct, images int
	steps           int
}

// rollback asks train to restart the loop from a checkpoint's step.
type rollback struct{ step int }

func (r *rollback) Error() string { return fmt.Sprintf("rolled back to step %d", r.step) }

// interrupted is what a run stopped by a signal (a cancelled context)
// returns, after saving.
type interrupted struct{ step int }

func (e *interrupted) Error() string { return fmt.Sprintf("interrupted at step %d", e.step) }

const maxRollbacks = 3

// lrAt is the learning rate at a step.
func (s *session) lrAt(step int) float64 { return s.sched.lr(step) }

func (s *session) lastPath() string { return filepath.Join(s.dir, lastFile) }
func (s *session) bestPath() string { return filepath.Join(s.dir, bestFile) }

func train(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	s := &session{o: o, out: stdout, errOut: stderr, opt: o.optimizer(), dir: o.out,
		sched: schedule{base: o.lr, scale: 1, warm: o.warmup == "on", warmLR: o.warmLR, warmBelow: o.warmBelow, warmEnd: -1}}
	// Data first: it is what fails most often, and fails fast; the model
	// takes its classes and image shape. Then the output folder, before
	// anything is written: a run that would be lost or mixed is refused.
	shape, err := s.loadData(ctx)
	if err != nil {
		return err
	}
	model, err := zoo.ByName(o.model, zoo.Options{Shortcut: o.shortcut[0], Classes: len(s.classes), Input: shape})
	if err != nil {
		return err
	}
	s.model = model
	if s.dir == "" {
		s.dir = filepath.Join("runs", model.Name)
	}
	lock, err := openOut(o, s.dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := s.open(); err != nil {
		return err
	}
	if s.mgr != nil {
		defer s.mgr.Close()
	}
	defer s.stepper.Close()
	if !o.quiet {
		fmt.Fprint(stdout, model.Summary())
	}
	fmt.Fprintf(stdout, "model: %s, %d parameters (%.2fM), %.1f MFLOPs a forward pass\n", model.Name, model.Count(), float64(model.Count())/1e6, model.FLOPs()/1e6)
	start, err := s.initWeights()
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stdout, "interrupted before training began; nothing was written")
		return &interrupted{start}
	}
	if !o.resume {
		// A checkpoint from the start, so that there is always one to go
		// back to.
		if err := s.save(s.lastPath(), 0); err != nil {
			return err
		}
	}
	for {
		err := s.loop(ctx, start)
		var rb *rollback
		if !errors.As(err, &rb) {
			return err
		}
		start = rb.step
	}
}

// loadData reads the data set, splits it and sets the run's length; it
// returns the images' shape.
func (s *session) loadData(ctx context.Context) (nn.Shape, error) {
	o := s.o
	var fetch *cifar.Fetcher
	if o.data == "" {
		fetch = cifar.Official()
		fetch.Progress = s.errOut
	}
	path, err := cifar.Resolve(ctx, o.data, fetch)
	if err != nil {
		return nn.Shape{}, err
	}
	t0 := time.Now()
	d, err := datasets.Load(path, datasets.Options{Labels: o.labels, Size: o.imageSize, Log: s.out})
	read := time.Since(t0)
	if err != nil {
		return nn.Shape{}, err
	}
	if d.Test != nil && !o.set["val"] {
		// The paper chose its schedule on a 45k/5k split, then trained on
		// all 50k images and reported test error.
		o.val = 0
		fmt.Fprintln(s.out, "a test set is present: training on all the training images and reporting test error, as the paper does (--val N holds N out)")
	}
	if o.val >= d.Train.Len() {
		return nn.Shape{}, fmt.Errorf("--val %d leaves no training images out of %d", o.val, d.Train.Len())
	}
	trainSet, valSet, err := data.Split(d.Train, o.val)
	if err != nil {
		return nn.Shape{}, err
	}
	if trainSet.Len() < o.batch {
		return nn.Shape{}, fmt.Errorf("--batch %d is larger than the %d training images", o.batch, trainSet.Len())
	}
	s.norm, s.classes = data.Stats(trainSet), d.Train.Classes
	s.dataID = d.Train.Fingerprint()
	s.loader = &data.Loader{Set: trainSet, Norm: s.norm, Aug: data.PaperAugment, Batch: o.batch, Seed: o.seed}
	if s.total, err = o.steps(s.loader.StepsPerEpoch()); err != nil {
		return nn.Shape{}, err
	}
	o.milestones = resolve(o.msSpec, s.total)
	s.sched.milestones = o.milestones
	s.valX, s.valY = data.Normalized(valSet, s.norm)
	if d.Test != nil {
		s.testX, s.testY = data.Normalized(d.Test, s.norm)
	}
	sh := d.Train.Shape
	fmt.Fprintf(s.out, "data: %s (read in %.1fs): %d classes of %v images: %d training, %d validation, ", path, read.Seconds(), len(s.classes), sh, trainSet.Len(), valSet.Len())
	if d.Test != nil {
		fmt.Fprintf(s.out, "%d test images\n", d.Test.Len())
	} else {
		fmt.Fprintln(s.out, "no test set: reporting validation only")
	}
	return nn.Shape{C: sh.C, H: sh.H, W: sh.W}, nil
}

// open makes the stepper: the GPU executor on --gpu, or the CPU reference.
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

// epochStats accumulates one epoch's training figures. A checkpoint taken
// inside an epoch keeps them, so that a resumed run reports the epoch as
// an uninterrupted one would.
type epochStats struct {
	loss    float64
	correct int
	images  int
	firstLR float64
	prior   float64   // training seconds before the run resumed
	start   time.Time // when training (re)started in this epoch
}

// seconds is the epoch's training time so far.
func (e *epochStats) seconds() float64 { return e.prior + time.Since(e.start).Seconds() }

func (s *session) loop(ctx context.Context, start int) error {
	o := s.o
	if start >= s.total {
		fmt.Fprintf(s.out, "nothing to do: the run is at step %d of %d\n", start, s.total)
		return runlog.MarkDone(s.dir, runlog.Done{Steps: start, StepsPerEpoch: s.loader.StepsPerEpoch()})
	}
	// A finished run taken further (--resume with more steps) is not
	// done until it ends again.
	if err := os.Remove(filepath.Join(s.dir, runlog.DoneFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	batches := s.loader.Stream(start, s.total, 3, stop)
	var bar *progress
	if !o.quiet {
		bar = newProgress(s.errOut, start, s.total)
	}
	runStart := time.Now()
	if s.ep.images == 0 { // no epoch under way (restored from a checkpoint)
		s.ep = epochStats{firstLR: s.lrAt(start)}
	}
	s.ep.start = time.Now()
	ep := &s.ep
	per := s.loader.StepsPerEpoch()
	step := start
	for b := range batches {
		lr := s.lrAt(step)
		loss, correct, err := s.stepper.Step(b.Images, b.Labels, lr)
		// Messages number this step step+1, as the progress line does
		// ("step N/total" once N steps are done).
		if err != nil {
			return s.fail(step+1, err)
		}
		if !finite(float64(loss)) {
			return s.diverged(step+1, "training", float64(loss))
		}
		step++
		ep.loss += float64(loss) * float64(o.batch)
		ep.correct += correct
		ep.images += o.batch
		if err := s.curve(step, float64(loss), correct, lr); err != nil {
			return err
		}
		if bar != nil {
			rate := float64(step-start) * float64(o.batch) / time.Since(runStart).Seconds()
			bar.step(step, fmt.Sprintf("epoch %d loss %.3f lr %g %.0f img/s", b.Epoch+1, loss, lr, rate))
		}
		if o.profile && step == start+2 {
			s.printProfile()
		}
		if step%per == 0 || step == s.total {
			ended := *ep
			ended.prior = ended.seconds()
			*ep = epochStats{firstLR: s.lrAt(step)}
			if err := s.endEpoch(step, (step-1)/per+1, &ended); err != nil {
				return err
			}
			ep.start = time.Now() // evaluation and saving are not training

		}
		if ctx.Err() != nil {
			if err := s.save(s.lastPath(), step); err != nil {
				return fmt.Errorf("interrupted at step %d, and saving failed: %w", step, err)
			}
			fmt.Fprintf(s.out, "\ninterrupted at step %d; saved %s. Continue with: train --resume --out %s (and the same flags)\n",
				step, s.lastPath(), s.dir)
			return &interrupted{step}
		}
	}
	if bar != nil {
		bar.finish()
	}
	return s.summary(start, step, time.Since(runStart))
}

// diverged handles a NaN or infinite loss (training, validation or
// test): stop, keeping the last good checkpoint, or (--on-nan rollback)
// reload it and continue with a tenth of the learning rate.
func (s *session) diverged(step int, what string, loss float64) error {
	if s.o.onNaN != "rollback" || s.rolled >= maxRollbacks {
		return fmt.Errorf("the %s loss is %v at step %d: training diverged; stopped without saving. "+
			"The last good checkpoint is %s (lower --lr and --resume, or use --on-nan rollback)", what, loss, step, s.lastPath())
	}
	f, back, err := s.restoreLast()
	if err == nil {
		err = s.restoreWindow(f.Metadata)
	}
	if err != nil {
		return fmt.Errorf("the %s loss is %v at step %d, and the rollback failed: %w", what, loss, step, err)
	}
	s.rolled++
	s.sched.scale /= 10
	fmt.Fprintf(s.out, "\nthe %s loss is %v at step %d: rolled back to step %d with the learning rate divided by %g\n",
		what, loss, step, back, 1/s.sched.scale)
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

// evaluate runs the model in eval mode on a held-out set; a NaN or
// infinite loss is a divergence.
func (s *session) evaluate(step int, what string, x []float32, y []int32) (loss, errRate *float64, err error) {
	l, c, err := s.stepper.Eval(x, y)
	if err != nil {
		return nil, nil, s.fail(step, err)
	}
	if !finite(l) {
		return nil, nil, s.diverged(step, what, l)
	}
	e := 1 - float64(c)/float64(len(y))
	return &l, &e, nil
}

// curve adds a step's figures to the window and, every --log-every steps
// and at the run's end, writes the window's means as a point of the curve;
// the warm-up sees each point.
func (s *session) curve(step int, loss float64, correct int, lr float64) error {
	w := &s.window
	w.loss += loss * float64(s.o.batch)
	w.correct += correct
	w.images += s.o.batch
	w.steps++
	if step%s.o.logEvery != 0 && step != s.total {
		return nil
	}
	p := runlog.Point{Step: step, Steps: w.steps, LR: lr, TrainLoss: w.loss / float64(w.images), TrainErr: 1 - float64(w.correct)/float64(w.images)}
	*w = window{}
	if s.sched.observe(step, p.TrainErr) {
		fmt.Fprintf(s.out, "\rwarm-up over at step %d (training error %.1f%% < %.0f%%): learning rate %g from here\n",
			step, 100*p.TrainErr, 100*s.o.warmBelow, s.lrAt(step))
	}
	if err := runlog.Append(filepath.Join(s.dir, runlog.CurveFile), p); err != nil {
		return fmt.Errorf("curve: %w", err)
	}
	return nil
}

func (s *session) endEpoch(step, epoch int, ep *epochStats) error {
	secs := ep.prior
	m := runlog.Epoch{Epoch: epoch, Step: step, LR: ep.firstLR, TrainLoss: ep.loss / float64(ep.images),
		TrainErr: 1 - float64(ep.correct)/float64(ep.images), Seconds: secs, ImagesPS: float64(ep.images) / secs}
	var err error
	if len(s.valY) > 0 {
		if m.ValLoss, m.ValErr, err = s.evaluate(step, "validation", s.valX, s.valY); err != nil {
			return err
		}
	}
	if len(s.testY) > 0 {
		if m.TestLoss, m.TestErr, err = s.evaluate(step, "test", s.testX, s.testY); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("epoch %d step %d lr %g train loss %.4f err %.2f%%", epoch, step, m.LR, m.TrainLoss, 100*m.TrainErr)
	if m.ValErr != nil {
		line += fmt.Sprintf(" val loss %.4f err %.2f%%", *m.ValLoss, 100**m.ValErr)
	}
	if m.TestErr != nil {
		line += fmt.Sprintf(" test err %.2f%%", 100**m.TestErr)
	}
	fmt.Fprintf(s.out, "\r%s (%.0fs, %.0f img/s)\n", line, secs, m.ImagesPS)
	if err := runlog.Append(filepath.Join(s.dir, runlog.MetricsFile), m); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if m.ValErr != nil && 1-*m.ValErr > s.best {
		s.best = 1 - *m.ValErr
		if err := s.save(s.bestPath(), step); err != nil {
			return fmt.Errorf("saving the best checkpoint: %w (the previous one is intact)", err)
		}
	}
	if err := s.save(s.lastPath(), step); err != nil {
		return fmt.Errorf("saving the checkpoint: %w (the previous one is intact)", err)
	}
	// The plot is a convenience: it never stops a run.
	if err := redraw(s.dir, s.errOut); err != nil {
		fmt.Fprintf(s.errOut, "warning: %v\n", err)
	}
	return nil
}

func (s *session) summary(start, end int, wall time.Duration) error {
	if err := runlog.MarkDone(s.dir, runlog.Done{Steps: end, StepsPerEpoch: s.loader.StepsPerEpoch()}); err != nil {
		return fmt.Errorf("marking the run done: %w", err)
	}
	images := float64(end-start) * float64(s.o.batch)
	fmt.Fprintf(s.out, "done: %d steps in %s, %.0f images/s\n", end-start, wall.Round(time.Second), images/wall.Seconds())
	all, _, err := runlog.Epochs(filepath.Join(s.dir, runlog.MetricsFile))
	if err == nil && len(all) > 0 {
		last := all[len(all)-1]
		if last.ValErr != nil {
			fmt.Fprintf(s.out, "validation accuracy %.2f%% (best %.2f%%)\n", 100*(1-*last.ValErr), 100*s.best)
		}
		if last.TestErr != nil {
			fmt.Fprintf(s.out, "test accuracy %.2f%%\n", 100*(1-*last.TestErr))
		}
	}
	saved := []string{s.lastPath()}
	if exists(s.bestPath()) {
		saved = append(saved, s.bestPath())
	}
	fmt.Fprintf(s.out, "checkpoints: %s; metrics and plot in %s\n", strings.Join(saved, ", "), s.dir)
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
