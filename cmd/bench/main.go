// Command bench measures vknn on a Vulkan device.
//
// Usage:
//
//	bench devices                 list the Vulkan devices and their limits
//	bench peak [--gpu N]          the device's FMA, copy, submit and dispatch ceilings
//	bench conv3x3 [--batch N] [--shape C,K,H[,S]] [--naive]
//	                              ResNet-20's convolutions, GPU against CPU reference
//	bench bn, bench pool          memory-bound layers against the copy bandwidth
//	bench step                    one ResNet-20 training step, per-layer breakdown
//
// Every subcommand takes --json to print JSON instead of a table.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/perf"
)

type command struct {
	name, help string
	run        func(env *env, args []string) error
}

// env is what every subcommand shares: its flags and where it writes.
type env struct {
	out      io.Writer
	gpuIndex int
	json     bool
	tiny     bool
	validate bool
	batch    int
	shape    string
	naive    bool
}

var commands = []command{
	{"devices", "list the Vulkan devices and their compute limits", runDevices},
	{"peak", "measure the device's FMA throughput, copy bandwidth, submit and dispatch costs", runPeak},
	{"conv3x3", "time ResNet-20's 3x3 convolutions (forward, data and weight gradients) against the CPU reference", runConv},
	{"bn", "time batch norm (training forward and backward) against the copy bandwidth", runBN},
	{"pool", "time pooling (max 3x3/2, global average) against the copy bandwidth", runPool},
	{"step", "time one ResNet-20 training step, with a per-layer breakdown", runStep},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bench <command> [--gpu N] [--json] [--tiny] [--batch N]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.help)
	}
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("see usage above")

// run runs a subcommand: results to out, usage, help and flag errors to
// errOut (so that --json output stays clean).
func run(args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		e := &env{out: out}
		fs := flag.NewFlagSet("bench "+c.name, flag.ContinueOnError)
		fs.SetOutput(errOut)
		fs.IntVar(&e.gpuIndex, "gpu", 0, "device index (see bench devices)")
		fs.BoolVar(&e.json, "json", false, "print JSON instead of a table")
		fs.BoolVar(&e.tiny, "tiny", false, "tiny sizes: prove the path works, figures meaningless (CI)")
		fs.BoolVar(&e.validate, "validate", false, "enable the Vulkan validation layer")
		fs.IntVar(&e.batch, "batch", 128, "batch size")
		fs.StringVar(&e.shape, "shape", "", "conv3x3: one shape C,K,H[,stride[,kernel]] instead of ResNet-20's")
		fs.BoolVar(&e.naive, "naive", false, "conv3x3: also time the naive v1 kernels (slow)")
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if e.batch < 1 {
			return fmt.Errorf("--batch %d: must be at least 1", e.batch)
		}
		if e.tiny && !isSet(fs, "batch") {
			e.batch = 2
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("%s: unexpected arguments %q", c.name, fs.Args())
		}
		return c.run(e, fs.Args())
	}
	usage(errOut)
	return fmt.Errorf("unknown command %q", args[0])
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// open opens the chosen device.
func (e *env) open() (*gpu.Manager, error) {
	return gpu.Open(e.gpuIndex, gpu.Options{Validate: e.validate})
}

// openPeak opens the chosen device and measures its ceilings, at the size
// --tiny selects; the caller closes the Manager.
func (e *env) openPeak() (*gpu.Manager, perf.PeakSize, perf.Peak, error) {
	size := perf.Full
	if e.tiny {
		size = perf.Tiny
	}
	m, err := e.open()
	if err != nil {
		return nil, size, perf.Peak{}, err
	}
	p, err := perf.MeasurePeak(m, size)
	if err != nil {
		m.Close()
		return nil, size, p, err
	}
	return m, size, p, nil
}

// emit prints v as JSON, or the table that table writes.
func (e *env) emit(v any, table func(w *tabwriter.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	table(w)
	return w.Flush()
}

func runDevices(e *env, _ []string) error {
	devs, err := gpu.Devices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		return errors.New("no Vulkan device found; install a driver (e.g. mesa-vulkan-drivers for the CPU)")
	}
	if e.json {
		return e.emit(devs, nil)
	}
	_, err = io.WriteString(e.out, gpu.FormatDevices(devs))
	return err
}
