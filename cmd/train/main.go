// Command train trains a network of the model zoo on CIFAR-10 on a
// Vulkan device, or on the CPU reference path: by default ResNet-20 with
// the recipe of He et al. 2016, section 4.2.
//
//	train --gpu 0                  ResNet-20, the paper's recipe (64k iterations)
//	train --list-gpus              the devices --gpu can name
//	train --depth 56 --epochs 10   other depths, shorter runs
//	train --model vgg11 --iters 100  another network of the zoo
//	train --resume --out DIR       continue a stopped run
//	train --plot DIR               redraw DIR/errors.png from DIR/metrics.jsonl
//	train experiment fig6 --depths 20,56 --iters 300
//	                               several runs compared (the paper's Fig. 6)
//
// A first SIGINT (Ctrl-C), SIGTERM or SIGHUP stops the run after the
// current step and saves it; a second stops at once, keeping the last
// checkpoint. Either way the exit code is 128 + the signal's number (130,
// 143, 129).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vknn/vknn/gpu"
)

// signalled is the cause of a context cancelled by a signal.
type signalled struct{ sig os.Signal }

func (s signalled) Error() string { return s.sig.String() }

// exitCode is the conventional code of a process ended by sig: 128 + its
// number.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// watchSignals cancels the context at the first SIGINT, SIGTERM or SIGHUP,
// saying so at once, and exits at the second.
func watchSignals(cancel context.CancelCauseFunc, stderr io.Writer) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		fmt.Fprintf(stderr, "\ntrain: %v: stopping after this step and saving it; another stops at once, keeping the last checkpoint\n", sig)
		cancel(signalled{sig})
		sig = <-sigs
		fmt.Fprintf(stderr, "\ntrain: %v again: stopped at once; the last checkpoint saved is kept\n", sig)
		os.Exit(exitCode(sig))
	}()
}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	watchSignals(cancel, os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var in *interrupted
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &in):
		var s signalled
		if errors.As(context.Cause(ctx), &s) {
			os.Exit(exitCode(s.sig))
		}
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "experiment" {
		return runExperiment(ctx, args[1:], stdout, stderr)
	}
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.listGPUs {
		devs, err := gpu.Devices()
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, gpu.FormatDevices(devs))
		return nil
	}
	if o.plot != "" {
		return redraw(o.plot, stderr)
	}
	return train(ctx, o, stdout, stderr)
}
