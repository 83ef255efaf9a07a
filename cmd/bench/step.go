package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/perf"
	"github.com/vknn/vknn/zoo"
)

// stepRow is one line of the step breakdown.
type stepRow struct {
	Part string  `json:"part"`
	Ms   float64 `json:"ms"`
	Pct  float64 `json:"pct"`
}

// runStep times a ResNet-20 training step replayed from its recorded
// command buffer: the median over runs of the device time, and where it
// goes, by layer kind and by layer.
func runStep(e *env, _ []string) error {
	m, err := e.open()
	if err != nil {
		return err
	}
	defer m.Close()
	// The FMA ceiling is measured in the same run as the step (this
	// machine's speed drifts), where the device has timestamps.
	var peak perf.Peak
	if m.HasTimestamps() {
		size := perf.Full
		if e.tiny {
			size = perf.Tiny
		}
		if peak, err = perf.MeasurePeak(m, size); err != nil {
			return err
		}
	}
	model, err := zoo.ResNet{N: 3, Shortcut: 'A', Classes: 10}.Build()
	if err != nil {
		return err
	}
	t, err := nn.NewGPU(m, model, nn.SGD{Momentum: 0.9, WD: 1e-4}, e.batch, nn.Options{Profile: true})
	if err != nil {
		return err
	}
	defer t.Close()
	if err := t.SetState(model.Init(1)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 8))
	x := randFloats(rng, e.batch*3072)
	y := make([]int32, e.batch)
	for i := range y {
		y[i] = int32(rng.IntN(10))
	}
	reps := perf.Full.Reps
	if e.tiny {
		reps = 2
	}
	// Device time from timestamps; where the device has none, the wall
	// time of each step (upload and read-back included), and no breakdown.
	clock := "device time"
	if !m.HasTimestamps() {
		clock = "wall time: the device has no compute timestamps"
	}
	var totals []float64
	bySection, byKind := map[string]float64{}, map[string]float64{}
	for i := 0; i < reps+1; i++ {
		start := time.Now()
		if _, _, err := t.Step(x, y, 0.01); err != nil {
			return err
		}
		wall := float64(time.Since(start).Nanoseconds())
		if i == 0 {
			continue // warm-up
		}
		if !m.HasTimestamps() {
			totals = append(totals, wall)
			continue
		}
		tim, err := t.Timings()
		if err != nil {
			return err
		}
		var total float64
		for _, d := range tim {
			total += d.Ns
			bySection[d.Section] += d.Ns / float64(reps)
			byKind[kind(d.Section, d.Kernel)] += d.Ns / float64(reps)
		}
		totals = append(totals, total)
	}
	ms := perf.Median(totals) / 1e6
	rows := func(mp map[string]float64) []stepRow {
		var out []stepRow
		var sum float64
		for _, v := range mp {
			sum += v
		}
		for k, v := range mp {
			out = append(out, stepRow{k, v / 1e6, 100 * v / sum})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Ms > out[j].Ms })
		return out
	}
	kinds, sections := rows(byKind), rows(bySection)
	// A training step does three passes' worth of the forward FLOPs
	// (forward, data and weight gradients), counted as direct
	// convolution whatever algorithm runs: 31.1 GFLOP at batch 128.
	gflop := 3 * model.FLOPs() * float64(e.batch) / 1e9
	rate, pct := gflop/(ms/1e3), 0.0
	if peak.FMAGFlops > 0 {
		pct = 100 * rate / peak.FMAGFlops
	}
	return e.emit(map[string]any{"device": m.Info().Name, "batch": e.batch, "ms_per_step": ms, "clock": clock,
		"images_per_s": float64(e.batch) / (ms / 1e3), "gflop_per_step": gflop, "gflops": rate,
		"fma_gflops": peak.FMAGFlops, "pct_of_fma": pct,
		"by_kind": kinds, "by_layer": sections}, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "%s: ResNet-20 training step, batch %d: %.1f ms/step, %.1f images/s (%s, median of %d)\n",
			m.Info().Name, e.batch, ms, float64(e.batch)/(ms/1e3), clock, reps)
		fmt.Fprintf(w, "%.1f GFLOP/step (direct-convolution count): %.1f GFLOP/s", gflop, rate)
		if peak.FMAGFlops > 0 {
			fmt.Fprintf(w, ", %.1f%% of the FMA ceiling of %.1f GFLOP/s measured in this run", pct, peak.FMAGFlops)
		} else {
			fmt.Fprint(w, " (no FMA ceiling: it is timed with timestamps)")
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "by kind\tms\t%\t")
		for _, r := range kinds {
			fmt.Fprintf(w, "%s\t%.2f\t%.1f\t\n", r.Part, r.Ms, r.Pct)
		}
		fmt.Fprintln(w, "by layer\tms\t%\t")
		for _, r := range sections {
			fmt.Fprintf(w, "%s\t%.2f\t%.1f\t\n", r.Part, r.Ms, r.Pct)
		}
	})
}

// kind groups a dispatch by what it does.
func kind(section, kernel string) string {
	back := strings.HasSuffix(section, ".backward")
	switch {
	case strings.HasPrefix(kernel, "conv") && strings.Contains(kernel, "wgrad"), kernel == "reduce_partials":
		return "conv weight grad"
	case strings.HasPrefix(kernel, "conv") && back:
		return "conv data grad"
	case strings.HasPrefix(kernel, "conv"):
		return "conv forward"
	case strings.HasPrefix(kernel, "bn") && back:
		return "batchnorm backward"
	case strings.HasPrefix(kernel, "bn"):
		return "batchnorm forward"
	default:
		return "other (" + kernel + ")"
	}
}
