package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
	"github.com/vknn/vknn/perf"
)

// convShape is one convolution to measure.
type convShape struct {
	Name string
	Conv layers.Conv2D
	In   layers.Shape
}

// resnetConvs are ResNet-20's 3x3 convolutions at batch n.
func resnetConvs(n int) []convShape {
	c := func(in, out, stride int) layers.Conv2D {
		return layers.Conv2D{In: in, Out: out, Kernel: 3, Stride: stride, Pad: 1}
	}
	return []convShape{
		{"16x32x32 s1", c(16, 16, 1), layers.Shape{N: n, C: 16, H: 32, W: 32}},
		{"32x16x16 s1", c(32, 32, 1), layers.Shape{N: n, C: 32, H: 16, W: 16}},
		{"64x8x8 s1", c(64, 64, 1), layers.Shape{N: n, C: 64, H: 8, W: 8}},
		{"16->32 s2", c(16, 32, 2), layers.Shape{N: n, C: 16, H: 32, W: 32}},
		{"32->64 s2", c(32, 64, 2), layers.Shape{N: n, C: 32, H: 16, W: 16}},
	}
}

// parseShape reads C,K,H[,stride[,kernel]] into a convolution at batch n.
func parseShape(s string, n int) (convShape, error) {
	var v []int
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || x <= 0 {
			return convShape{}, fmt.Errorf("--shape %q: want C,K,H[,stride[,kernel]] of positive integers", s)
		}
		v = append(v, x)
	}
	if len(v) < 3 || len(v) > 5 {
		return convShape{}, fmt.Errorf("--shape %q: want C,K,H[,stride[,kernel]]", s)
	}
	stride, kernel := 1, 3
	if len(v) > 3 {
		stride = v[3]
	}
	if len(v) > 4 {
		kernel = v[4]
	}
	if stride > v[2] || kernel > v[2] {
		return convShape{}, fmt.Errorf("--shape %q: a stride of %d and a kernel of %d on %dx%d inputs: each must be at most the input's size", s, stride, kernel, v[2], v[2])
	}
	conv := layers.Conv2D{In: v[0], Out: v[1], Kernel: kernel, Stride: stride, Pad: kernel / 2}
	in := layers.Shape{N: n, C: v[0], H: v[2], W: v[2]}
	if err := conv.Check(in); err != nil {
		return convShape{}, err
	}
	return convShape{Name: s, Conv: conv, In: in}, nil
}

// convRow is one line of the conv3x3 table.
type convRow struct {
	Shape     string  `json:"shape"`
	Pass      string  `json:"pass"`
	Version   string  `json:"version"`
	GPUms     float64 `json:"gpu_ms"`
	Spread    float64 `json:"spread_pct"` // (slowest - fastest run) / median
	GFlops    float64 `json:"gflops"`
	PctPeak   float64 `json:"pct_of_peak"`
	CPUms     float64 `json:"cpu_ms"`
	CPUGFlops float64 `json:"cpu_gflops"`
	RelErr    float64 `json:"rel_err"`
}

func randFloats(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

func upload(m *gpu.Manager, x []float32) (*gpu.Buffer, error) {
	b, err := m.NewBuffer(uint64(4 * max(len(x), 1)))
	if err == nil {
		err = b.WriteFloat32(x)
	}
	return b, err
}

func download(b *gpu.Buffer, n int) ([]float32, error) {
	x := make([]float32, n)
	return x, b.ReadFloat32(x)
}

// nans is n NaNs.
func nans(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// timeSeq times a recorded sequence on the device: median of reps runs
// after warm-up.
func timeSeq(m *gpu.Manager, reps int, record func(s *gpu.Sequence)) (float64, error) {
	s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	record(s)
	return perf.Sample(s, 1, reps)
}

func timeCPU(f func()) float64 {
	t0 := time.Now()
	f()
	return float64(time.Since(t0).Nanoseconds())
}

// convJob is one recorded pass to time.
type convJob struct {
	seq   *gpu.Sequence
	reps  int
	flops float64
	row   convRow
	ns    []float64
}

// timeJobs times the jobs in rounds, each job once a round, so that a
// slow spell of the machine spreads over all of them rather than landing
// on one; a job's time is its median.
func timeJobs(jobs []convJob, peak float64) ([]convRow, error) {
	rounds := 0
	for _, j := range jobs {
		rounds = max(rounds, j.reps)
	}
	for r := range rounds {
		for i := range jobs {
			if r >= jobs[i].reps {
				continue
			}
			ns, err := perf.Sample(jobs[i].seq, 0, 1)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", jobs[i].row.Shape, jobs[i].row.Pass, err)
			}
			jobs[i].ns = append(jobs[i].ns, ns)
		}
	}
	rows := make([]convRow, len(jobs))
	for i, j := range jobs {
		ns := perf.Median(j.ns)
		r := j.row
		r.GPUms, r.GFlops, r.PctPeak = ns/1e6, j.flops/ns, 100*j.flops/ns/peak
		r.Spread = 100 * (slices.Max(j.ns) - slices.Min(j.ns)) / ns
		rows[i] = r
	}
	return rows, nil
}

func runConv(e *env, args []string) error {
	if _, err := layers.EnvConvVersion(); err != nil {
		return err
	}
	shapes := resnetConvs(e.batch)
	if e.shape != "" {
		s, err := parseShape(e.shape, e.batch)
		if err != nil {
			return err
		}
		shapes = []convShape{s}
	}
	m, size, peak, err := e.openPeak()
	if err != nil {
		return err
	}
	defer m.Close()
	// The device's default version, v3 and v2 beside it where the default
	// is v4, v2 where it is v3, and the naive v1 on request.
	versions := []layers.ConvVersion{layers.DefaultConvVersion(m.Info())}
	for v := versions[0] - 1; v >= layers.ConvV2 && versions[0] > layers.ConvV2; v-- {
		versions = append(versions, v)
	}
	if e.naive {
		versions = append(versions, layers.ConvV1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var jobs []convJob
	for _, sh := range shapes {
		c, in := sh.Conv, sh.In
		o := c.OutShape(in)
		x, w, dy := randFloats(rng, in.Len()), randFloats(rng, c.WeightLen()), randFloats(rng, o.Len())
		// The CPU reference, timed once: the yardstick for results and speed.
		ref := map[string][]float32{"forward": make([]float32, o.Len()), "data grad": make([]float32, in.Len()), "weight grad": make([]float32, c.WeightLen())}
		cpu := map[string]float64{
			"forward":     timeCPU(func() { layers.ConvForward(c, in, x, w, nil, ref["forward"]) }),
			"data grad":   timeCPU(func() { layers.ConvBackwardData(c, in, w, dy, ref["data grad"]) }),
			"weight grad": timeCPU(func() { layers.ConvBackwardWeights(c, in, x, dy, ref["weight grad"], nil) }),
		}
		xb, err := upload(m, x)
		if err != nil {
			return err
		}
		wb, _ := upload(m, w)
		dyb, _ := upload(m, dy)
		outs := map[string]*gpu.Buffer{}
		for pass, r := range ref {
			if outs[pass], err = upload(m, make([]float32, len(r))); err != nil {
				return err
			}
		}
		for _, v := range versions {
			g, err := layers.NewConvGPU(m, c, in, v)
			if err != nil {
				return err
			}
			passes := []struct {
				name   string
				record func(s *gpu.Sequence)
			}{
				{"forward", func(s *gpu.Sequence) { g.Forward(s, xb, wb, nil, outs["forward"]) }},
				{"data grad", func(s *gpu.Sequence) { g.BackwardData(s, dyb, wb, outs["data grad"]) }},
				{"weight grad", func(s *gpu.Sequence) { g.BackwardWeights(s, xb, dyb, outs["weight grad"], nil) }},
			}
			for _, p := range passes {
				// Check first (NaN-filled output, one run against the CPU
				// reference), time later.
				if err := outs[p.name].WriteFloat32(nans(len(ref[p.name]))); err != nil {
					return err
				}
				s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
				if err != nil {
					return err
				}
				defer s.Close()
				p.record(s)
				if err := s.Submit(); err != nil {
					return fmt.Errorf("%s %s: %w", sh.Name, p.name, err)
				}
				got, err := download(outs[p.name], len(ref[p.name]))
				if err != nil {
					return err
				}
				e := perf.RelErr(got, ref[p.name])
				if e > 1e-4 {
					return fmt.Errorf("%s %s %v: GPU and CPU disagree (relative error %.2g)", sh.Name, p.name, v, e)
				}
				reps := size.Reps
				if v == layers.ConvV1 {
					reps = 1
				}
				jobs = append(jobs, convJob{seq: s, reps: reps, flops: c.FLOPs(in), row: convRow{Shape: sh.Name,
					Pass: p.name, Version: v.String(), CPUms: cpu[p.name] / 1e6, CPUGFlops: c.FLOPs(in) / cpu[p.name], RelErr: e}})
			}
		}
	}
	rows, err := timeJobs(jobs, peak.FMAGFlops)
	if err != nil {
		return err
	}
	return e.emit(map[string]any{"peak": peak, "batch": e.batch, "rows": rows}, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "%s, batch %d, FMA peak %.1f GFLOP/s\n", peak.Device, e.batch, peak.FMAGFlops)
		fmt.Fprintln(w, "shape\tpass\tkernel\tGPU ms\tspread %\tGFLOP/s\t% peak\tCPU ref ms\tCPU GFLOP/s\trel err\t")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%.0f\t%.2f\t%.1f\t%.1f\t%.2f\t%.1e\t\n",
				r.Shape, r.Pass, r.Version, r.GPUms, r.Spread, r.GFlops, r.PctPeak, r.CPUms, r.CPUGFlops, r.RelErr)
		}
	})
}
