package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vknn/vknn/runlog"
)

// Trainer runs one training run with train's command-line arguments,
// writing its output to log. A cancelled context stops it after it has
// saved its state, with an error.
type Trainer func(ctx context.Context, args []string, log io.Writer) error

// Plan is an experiment's runs, ready to execute.
type Plan struct {
	Dir   string   // the experiment's folder: run r trains in Dir/r.Name
	Runs  []Run    // the runs to train
	Args  []string // train flags every run gets (budget, data, seed, ...)
	GPUs  []int    // the devices, one run on each at a time (nil: train's default)
	Train Trainer
	Log   io.Writer // a line as each run starts and ends
}

// The files an experiment adds to a run's folder.
const (
	argsFile = "args.json" // the train flags the run was started with
	logFile  = "train.log" // its output
)

// flags are run r's train flags, recorded in its folder: all but the
// folder itself (which may be reached by another path on another day),
// the device and --resume.
func (p Plan) flags(r Run) []string {
	return append([]string{"--model", r.Model, "--quiet"}, p.Args...)
}

// start says how run r starts: "" when it is done (kept), else the flag
// that starts it: --resume for a run with a checkpoint, or --overwrite
// for one without (clearing what a start that failed before its first
// checkpoint may have left; such a start may have had other flags). A
// checkpointed run begun with other flags, or not by an experiment, is an
// error.
func (p Plan) start(r Run) (string, error) {
	dir := filepath.Join(p.Dir, r.Name)
	want := p.flags(r)
	if _, err := os.Stat(filepath.Join(dir, "last.safetensors")); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		b, _ := json.Marshal(want)
		return "--overwrite", os.WriteFile(filepath.Join(dir, argsFile), b, 0o644)
	}
	b, err := os.ReadFile(filepath.Join(dir, argsFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s holds a run that no experiment started (no %s): use another --out", dir, argsFile)
	}
	if err != nil {
		return "", err
	}
	var had []string
	if err := json.Unmarshal(b, &had); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, argsFile), err)
	}
	if !slices.Equal(had, want) {
		return "", fmt.Errorf("%s was started with other flags:\n  was: %s\n  now: %s\nuse another --out, give the same flags, or delete the folder",
			dir, strings.Join(had, " "), strings.Join(want, " "))
	}
	if _, ok, err := runlog.ReadDone(dir); err != nil || ok {
		return "", err
	}
	return "--resume", nil
}

// Execute trains the plan's runs that are not done, one per device at a
// time; a run that stopped part way resumes from its last checkpoint. A
// run that fails does not stop the others; a cancelled context stops all
// (each saving its state) and returns its cause.
func (p Plan) Execute(ctx context.Context) error {
	type job struct {
		i    int
		r    Run
		flag string
	}
	var jobs []job
	for i, r := range p.Runs {
		flag, err := p.start(r)
		if err != nil {
			return fmt.Errorf("run %s: %w", r.Name, err)
		}
		if flag == "" {
			fmt.Fprintf(p.Log, "[%d/%d] %s: done before, kept\n", i+1, len(p.Runs), r.Name)
			continue
		}
		jobs = append(jobs, job{i, r, flag})
	}
	// Runs on several devices report at once.
	p.Log = &lockedWriter{w: p.Log}
	devices := p.GPUs
	if len(devices) == 0 {
		devices = []int{-1}
	}
	queue := make(chan job)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, dev := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				err := p.train(ctx, j.i, j.r, j.flag, dev)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case queue <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return errors.Join(errs...)
}

// train runs one run on device dev (-1: train's default).
func (p Plan) train(ctx context.Context, i int, r Run, flag string, dev int) error {
	dir := filepath.Join(p.Dir, r.Name)
	args := append(p.flags(r), "--out", dir, flag)
	on := ""
	if dev >= 0 {
		args = append(args, "--gpu", strconv.Itoa(dev))
		on = fmt.Sprintf(" on GPU %d", dev)
	}
	how := map[string]string{"--resume": "resuming", "--overwrite": "starting"}[flag]
	fmt.Fprintf(p.Log, "[%d/%d] %s: %s%s (log: %s)\n", i+1, len(p.Runs), r.Name, how, on, filepath.Join(dir, logFile))
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("run %s: %w", r.Name, err)
	}
	defer log.Close()
	fmt.Fprintf(log, "== train %s\n", strings.Join(args, " "))
	if err := p.Train(ctx, args, log); err != nil {
		fmt.Fprintf(p.Log, "[%d/%d] %s: stopped: %v\n", i+1, len(p.Runs), r.Name, err)
		return fmt.Errorf("run %s: %w", r.Name, err)
	}
	res, err := Collect(p.Dir, []Run{r})
	if err == nil && len(res) == 1 {
		fmt.Fprintf(p.Log, "[%d/%d] %s: done: %s\n", i+1, len(p.Runs), r.Name, res[0].Brief())
	}
	return nil
}

// lockedWriter serialises writes from concurrent runs.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
