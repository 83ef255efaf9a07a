package experiment

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/runlog"
	"github.com/vknn/vknn/zoo"
)

// Tail is the number of last steps whose training error a table reports
// (a mean, as one window is noisy).
const Tail = 100

// Result is what a run's folder holds.
type Result struct {
	Run
	Done       bool
	Steps      int     // the last step recorded
	Params     int     // trained parameters
	FLOPs      float64 // a forward pass's, per image
	SecPerStep float64 // training time per step (evaluation excluded)
	PerEpoch   int     // steps in an epoch (0: unknown until the run is done)
	Curve      []runlog.Point
	Epochs     []runlog.Epoch
}

// Collect reads the runs' folders under dir; runs without one are left
// out (see Missing).
func Collect(dir string, runs []Run) ([]Result, error) {
	var out []Result
	for _, r := range runs {
		rd := filepath.Join(dir, r.Name)
		curve, _, err := runlog.Points(filepath.Join(rd, runlog.CurveFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		res := Result{Run: r, Curve: curve}
		res.Epochs, _, _ = runlog.Epochs(filepath.Join(rd, runlog.MetricsFile))
		done, ok, err := runlog.ReadDone(rd)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		res.Done, res.PerEpoch = ok, done.StepsPerEpoch
		if len(curve) > 0 {
			res.Steps = curve[len(curve)-1].Step
		}
		// The model's size as trained (its classes and input), else
		// CIFAR-10's.
		if m, _, _, err := infer.Load(filepath.Join(rd, "last.safetensors")); err == nil {
			res.Params, res.FLOPs = m.Count(), m.FLOPs()
		} else if m, err := zoo.ByName(r.Model, zoo.Options{Shortcut: 'A', Classes: 10}); err == nil {
			res.Params, res.FLOPs = m.Count(), m.FLOPs()
		}
		var secs float64
		var steps, prev int
		for _, e := range res.Epochs {
			secs += e.Seconds
			steps += e.Step - prev
			prev = e.Step
		}
		if steps > 0 {
			res.SecPerStep = secs / float64(steps)
		}
		out = append(out, res)
	}
	return out, nil
}

// Missing names the runs that results lack.
func Missing(runs []Run, results []Result) []string {
	have := map[string]bool{}
	for _, r := range results {
		have[r.Name] = true
	}
	var out []string
	for _, r := range runs {
		if !have[r.Name] {
			out = append(out, r.Name)
		}
	}
	return out
}

// TrainErr is the training error over the last n steps up to step (the
// mean of the curve's windows that end there, weighted by their steps),
// and the steps it covers; NaN where the curve does not reach step.
func (r Result) TrainErr(step, n int) (float64, int) {
	var sum float64
	var steps int
	for i := len(r.Curve) - 1; i >= 0 && steps < n; i-- {
		p := r.Curve[i]
		if p.Step > step {
			continue
		}
		sum += p.TrainErr * float64(p.Steps)
		steps += p.Steps
	}
	if steps == 0 || (len(r.Curve) > 0 && r.Curve[len(r.Curve)-1].Step < step) {
		return math.NaN(), 0
	}
	return sum / float64(steps), steps
}

// held is the last epoch's validation and test error (NaN: none).
func (r Result) held() (val, test float64) {
	val, test = math.NaN(), math.NaN()
	if len(r.Epochs) == 0 {
		return
	}
	e := r.Epochs[len(r.Epochs)-1]
	if e.ValErr != nil {
		val = *e.ValErr
	}
	if e.TestErr != nil {
		test = *e.TestErr
	}
	return
}

// Brief is a run's result in one line.
func (r Result) Brief() string {
	tr, _ := r.TrainErr(r.Steps, Tail)
	val, test := r.held()
	s := fmt.Sprintf("%d steps, %.2f s/step, training error %s", r.Steps, r.SecPerStep, pct(tr))
	if !math.IsNaN(val) {
		s += ", validation error " + pct(val)
	}
	if !math.IsNaN(test) {
		s += ", test error " + pct(test)
	}
	return s
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*x)
}

// Table writes the results as a markdown table, the paper's figures
// beside them, and, for each group of two depths or more, whether the
// deepest net's training error is above the shallowest's at the same step
// (the degradation problem of plain nets).
func Table(w io.Writer, d Def, results []Result) {
	fmt.Fprintf(w, "| run | layers | params | paper params | MFLOPs/image | steps | s/step | s/epoch | train err (last %d+ steps) | val err | test err | paper test err |\n", Tail)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		val, test := r.held()
		tr, _ := r.TrainErr(r.Steps, Tail)
		paper, paperParams := "-", "-"
		if v, ok := d.Paper[r.Name]; ok {
			paper = fmt.Sprintf("%.2f%%", v)
		}
		if v, ok := d.PaperParams[r.Name]; ok {
			paperParams = v
		}
		steps := fmt.Sprint(r.Steps)
		if !r.Done {
			steps += " (running)"
		}
		epoch := "-"
		if r.PerEpoch > 0 && r.SecPerStep > 0 {
			epoch = fmt.Sprintf("%.0f", r.SecPerStep*float64(r.PerEpoch))
		}
		fmt.Fprintf(w, "| %s | %d | %.2fM | %s | %.1f | %s | %.2f | %s | %s | %s | %s | %s |\n", r.Name, r.Depth,
			float64(r.Params)/1e6, paperParams, r.FLOPs/1e6, steps, r.SecPerStep, epoch, pct(tr), pct(val), pct(test), paper)
	}
	for _, g := range groups(results) {
		if len(g) < 2 {
			continue
		}
		lo, hi := g[0], g[0]
		for _, r := range g {
			if r.Depth < lo.Depth {
				lo = r
			}
			if r.Depth > hi.Depth {
				hi = r
			}
		}
		step := min(lo.Steps, hi.Steps)
		a, n := lo.TrainErr(step, Tail)
		b, _ := hi.TrainErr(step, Tail)
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		verdict := "not above"
		if b > a {
			verdict = "above"
		}
		fmt.Fprintf(w, "\n%s: at step %d (mean of the last %d steps) %s's training error is %s, %s's %s: the deeper net's is %s the shallower's.\n",
			lo.Group, step, n, hi.Name, pct(b), lo.Name, pct(a), verdict)
	}
}

// groups are the results by group, in order of first appearance.
func groups(results []Result) [][]Result {
	var out [][]Result
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Group]
		if !ok {
			i = len(out)
			index[r.Group] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// Summary is the table as a file's text, with a title.
func Summary(d Def, results []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n\n", d.Name, d.Doc)
	Table(&b, d, results)
	return b.String()
}

// heldErr is an epoch's held-out error: test where there is one, else
// validation (nil: neither).
func heldErr(e runlog.Epoch) *float64 {
	if e.TestErr != nil {
		return e.TestErr
	}
	return e.ValErr
}
