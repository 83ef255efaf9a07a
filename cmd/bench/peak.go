package main

import (
	"fmt"
	"text/tabwriter"
)

func runPeak(e *env, _ []string) error {
	m, _, p, err := e.openPeak()
	if err != nil {
		return err
	}
	defer m.Close()
	return e.emit(p, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "device\t%s\t\n", p.Device)
		fmt.Fprintf(w, "fp32 FMA (vec4 chains)\t%.1f GFLOP/s\t\n", p.FMAGFlops)
		fmt.Fprintf(w, "copy bandwidth (%d MiB, read+write)\t%.1f GB/s\t\n", p.CopyBytes>>20, p.CopyGBs)
		fmt.Fprintf(w, "the same, reading a texel buffer\t%.1f GB/s\t\n", p.TexelCopyGBs)
		fmt.Fprintf(w, "empty submit round trip\t%.1f µs\t\n", p.SubmitUs)
		fmt.Fprintf(w, "one more dependent dispatch\t%.1f µs\t\n", p.DispatchUs)
	})
}
