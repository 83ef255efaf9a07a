package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vknn/vknn/experiment"
	"github.com/vknn/vknn/gpu"
)

// expOptions are train experiment's own flags; the others go to every run.
type expOptions struct {
	name    string
	out     string
	depths  []int
	iters   int
	epochs  int
	gpus    []int
	only    []string
	list    bool
	collect bool
	shared  []string // train flags for every run
}

// notShared are train flags an experiment sets itself for each run.
var notShared = map[string]string{"out": "--out", "resume": "", "overwrite": "", "model": "", "depth": "--depths",
	"plain": "", "gpu": "--gpus", "iters": "--iters", "epochs": "--epochs", "plot": "", "list-gpus": "", "quiet": ""}

func expUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: train experiment NAME [flags] [train flags for every run]

Runs a named set of training runs, each in its own folder, and compares
them in a plot and a markdown table. An experiment stopped part way
(Ctrl-C, a crash, a reboot) continues where it was when run again with the
same flags: finished runs are kept and the interrupted one resumes exactly.

Experiments:
`)
	for _, n := range experiment.Names {
		d, _ := experiment.Named(n)
		fmt.Fprintf(w, "  %-14s %s\n", n, d.Doc)
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nAny other train flag (--data, --seed, --batch, --cpu, --log-every, ...) is passed to every run.\n")
}

// parseExperiment splits args into the experiment's flags and the train
// flags its runs share, which are checked as train would.
func parseExperiment(args []string, stderr io.Writer) (*expOptions, error) {
	e := &expOptions{}
	fs := flag.NewFlagSet("train experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { expUsage(stderr, fs) }
	fs.StringVar(&e.out, "out", "", "the experiment's folder (default experiments/NAME)")
	depths := fs.String("depths", "", "the ResNet and plain-net depths to run (default: the experiment's)")
	fs.IntVar(&e.iters, "iters", 64000, "steps per run (the milestones scale with it: 50% and 75%, the paper's 32k and 48k of 64k)")
	fs.IntVar(&e.epochs, "epochs", 0, "epochs per run instead of --iters")
	gpus := fs.String("gpus", "", "the Vulkan devices to use, one run on each at a time (e.g. 0,1; default: device 0 alone)")
	only := fs.String("only", "", "train only these runs (comma-separated; see --list): one machine's share of a sweep")
	fs.BoolVar(&e.list, "list", false, "print the experiment's runs, one a line, and exit")
	fs.BoolVar(&e.collect, "collect", false, "train nothing: draw the plot and table from the run folders in --out (gathered from several machines)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.Usage()
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("experiment: name one: %s (train experiment --help)", strings.Join(experiment.Names, ", "))
	}
	e.name = args[0]
	// Split the rest: the experiment's flags here, train's to the runs.
	tf, _ := newFlags(&options{})
	var own []string
	for rest := args[1:]; len(rest) > 0; rest = rest[1:] {
		a := rest[0]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("experiment: unexpected argument %q", a)
		}
		to := &e.shared
		if fs.Lookup(name) != nil || name == "h" || name == "help" {
			to = &own
		} else if f := tf.Lookup(name); f == nil {
			return nil, fmt.Errorf("experiment: unknown flag %s (train experiment --help)", a)
		} else if instead, ok := notShared[name]; ok {
			if instead != "" {
				return nil, fmt.Errorf("experiment: %s is the experiment's to set: use %s", a, instead)
			}
			return nil, fmt.Errorf("experiment: %s is the experiment's to set for each run", a)
		}
		*to = append(*to, a)
		f := fs.Lookup(name)
		if f == nil {
			f = tf.Lookup(name)
		}
		if f == nil || hasValue || len(rest) < 2 {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !(ok && b.IsBoolFlag()) {
			rest = rest[1:]
			*to = append(*to, rest[0])
		}
	}
	if err := fs.Parse(own); err != nil {
		return nil, err
	}
	if _, err := experiment.Named(e.name); err != nil {
		return nil, err
	}
	var err error
	if *depths != "" {
		if e.depths, err = parseList(*depths); err != nil {
			return nil, fmt.Errorf("--depths: %w", err)
		}
		for i, d := range e.depths {
			if slices.Contains(e.depths[:i], d) {
				return nil, fmt.Errorf("--depths: %d twice", d)
			}
			if d < 8 || (d-2)%6 != 0 {
				return nil, fmt.Errorf("--depths: %d is not 6n+2 (20, 32, 44, 56, 110)", d)
			}
		}
	}
	if *gpus != "" {
		if e.gpus, err = parseList(*gpus); err != nil {
			return nil, fmt.Errorf("--gpus: %w", err)
		}
	}
	if *only != "" {
		e.only = strings.Split(*only, ",")
	}
	if e.out == "" {
		e.out = filepath.Join("experiments", e.name)
	}
	if e.iters < 1 && e.epochs < 1 {
		return nil, fmt.Errorf("--iters %d: must be at least 1", e.iters)
	}
	if e.epochs < 0 {
		return nil, fmt.Errorf("--epochs %d: must not be negative", e.epochs)
	}
	budget := []string{"--iters", strconv.Itoa(e.iters)}
	if e.epochs > 0 {
		budget = []string{"--epochs", strconv.Itoa(e.epochs)}
	}
	if !hasFlag(e.shared, "milestones") {
		budget = append(budget, "--milestones", "50%,75%")
	}
	e.shared = append(budget, e.shared...)
	return e, nil
}

// hasFlag tells whether args set flag name.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

func parseList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q is not a non-negative integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// runExperiment is train experiment: it trains the runs (in this
// process, one per device at a time), then writes and prints the table
// and draws the plot.
func runExperiment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e, err := parseExperiment(args, stderr)
	if err != nil {
		return err
	}
	def, _ := experiment.Named(e.name)
	runs, err := experiment.Select(def.Runs(e.depths), e.only)
	if err != nil {
		return err
	}
	// Each run's flags fail here, not an hour in.
	for _, r := range runs {
		if _, err := parse(append([]string{"--model", r.Model}, e.shared...), io.Discard); err != nil {
			return fmt.Errorf("experiment: run %s: %w", r.Name, err)
		}
	}
	if e.list {
		for _, r := range runs {
			fmt.Fprintln(stdout, r.Name)
		}
		return nil
	}
	if len(e.gpus) > 0 && !e.collect && !hasFlag(e.shared, "cpu") {
		devs, err := gpu.Devices()
		if err != nil {
			return err
		}
		for _, g := range e.gpus {
			if g >= len(devs) {
				return fmt.Errorf("--gpus: device %d is out of range: %d device(s) found (train --list-gpus)", g, len(devs))
			}
		}
	}
	if !e.collect {
		fmt.Fprintf(stdout, "experiment %s: %d run(s) in %s, each with: %s\n", e.name, len(runs), e.out, strings.Join(e.shared, " "))
		plan := experiment.Plan{Dir: e.out, Runs: runs, Args: e.shared, GPUs: e.gpus, Log: stdout,
			Train: func(ctx context.Context, args []string, log io.Writer) error { return run(ctx, args, log, log) }}
		err = plan.Execute(ctx)
		if ctx.Err() != nil {
			fmt.Fprintf(stdout, "experiment interrupted; run the same command again to continue it\n")
			return &interrupted{}
		}
		if len(e.only) > 0 {
			// One machine's share of a sweep: the table and plot are
			// drawn once the folders are gathered (--collect).
			fmt.Fprintf(stdout, "done here; draw the table and plot with --collect once every run's folder is in %s\n", e.out)
			return err
		}
	}
	return errors.Join(err, report(def, runs, e.out, stdout))
}

// report writes DIR/results.md and DIR/errors.png from the runs' folders
// and prints the table.
func report(def experiment.Def, runs []experiment.Run, dir string, stdout io.Writer) error {
	results, err := experiment.Collect(dir, runs)
	if err != nil {
		return err
	}
	if missing := experiment.Missing(runs, results); len(missing) > 0 {
		fmt.Fprintf(stdout, "not in %s (not run yet, or on another machine): %s\n", dir, strings.Join(missing, ", "))
	}
	if len(results) == 0 {
		return fmt.Errorf("no run of %s in %s to report", def.Name, dir)
	}
	text := experiment.Summary(def, results)
	fmt.Fprintf(stdout, "\n%s\n", text)
	md, png := filepath.Join(dir, "results.md"), filepath.Join(dir, "errors.png")
	if err := os.WriteFile(md, []byte(text), 0o644); err != nil {
		return err
	}
	if err := experiment.Plot(png, results); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "table: %s, plot: %s\n", md, png)
	return nil
}
