package main

import (
	"fmt"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/layers"
)

// memRow is one line of the bn and pool tables.
type memRow struct {
	Layer   string  `json:"layer"`
	Shape   string  `json:"shape"`
	Pass    string  `json:"pass"`
	Ms      float64 `json:"ms"`
	Bytes   float64 `json:"bytes"`
	GBs     float64 `json:"gbs"`
	PctCopy float64 `json:"pct_of_copy"`
}

func bnShapes(n int) []layers.Shape {
	return []layers.Shape{{N: n, C: 16, H: 32, W: 32}, {N: n, C: 32, H: 16, W: 16}, {N: n, C: 64, H: 8, W: 8}}
}

// memBench measures copy bandwidth, runs measure, and prints its rows.
func memBench(e *env, title string, measure func(m *gpu.Manager, reps int) ([]memRow, error)) error {
	m, size, peak, err := e.openPeak()
	if err != nil {
		return err
	}
	defer m.Close()
	rows, err := measure(m, size.Reps)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].GBs = rows[i].Bytes / (rows[i].Ms * 1e6)
		rows[i].PctCopy = 100 * rows[i].GBs / peak.CopyGBs
	}
	return e.emit(map[string]any{"copy_gbs": peak.CopyGBs, "rows": rows}, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "%s, %s, copy bandwidth %.1f GB/s\n", peak.Device, title, peak.CopyGBs)
		fmt.Fprintln(w, "layer\tshape\tpass\tms\tMB moved\tGB/s\t% copy\t")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%.1f\t%.2f\t%.1f\t\n", r.Layer, r.Shape, r.Pass, r.Ms, r.Bytes/1e6, r.GBs, r.PctCopy)
		}
	})
}

func runBN(e *env, _ []string) error {
	return memBench(e, "batch norm + ReLU (training)", func(m *gpu.Manager, reps int) ([]memRow, error) {
		rng := rand.New(rand.NewPCG(3, 4))
		var rows []memRow
		for _, in := range bnShapes(e.batch) {
			bn, err := layers.NewBatchNormGPU(m, in, layers.DefaultBN, true, false)
			if err != nil {
				return nil, err
			}
			n, C := in.Len(), in.C
			bufs := make([]*gpu.Buffer, 11)
			for i := range bufs {
				size := C
				if i < 3 || i == 10 {
					size = n
				}
				if bufs[i], err = upload(m, randFloats(rng, size)); err != nil {
					return nil, err
				}
			}
			a := layers.BNArgs{X: bufs[0], Y: bufs[1], Gamma: bufs[3], Beta: bufs[4], RunMean: bufs[5], RunVar: bufs[6], Mean: bufs[7], Invstd: bufs[8]}
			g := layers.BNGrads{DY: bufs[2], DX: bufs[10], DGamma: bufs[9], DBeta: bufs[9]}
			fwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { bn.ForwardTrain(s, a) })
			if err != nil {
				return nil, err
			}
			bwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { bn.Backward(s, a, g) })
			if err != nil {
				return nil, err
			}
			// Bytes: forward reads x (statistics), then x and writes y;
			// backward reads x, y, dy (statistics), then again and writes dx.
			f := float64(4 * n)
			rows = append(rows, memRow{Layer: "batchnorm+relu", Shape: in.String(), Pass: "forward", Ms: fwd / 1e6, Bytes: 3 * f},
				memRow{Layer: "batchnorm+relu", Shape: in.String(), Pass: "backward", Ms: bwd / 1e6, Bytes: 7 * f})
		}
		return rows, nil
	})
}

func runPool(e *env, _ []string) error {
	return memBench(e, "pooling", func(m *gpu.Manager, reps int) ([]memRow, error) {
		rng := rand.New(rand.NewPCG(5, 6))
		var rows []memRow
		for _, in := range bnShapes(e.batch) {
			p := layers.Pool2D{Max: true, Kernel: 3, Stride: 2, Pad: 1}
			g, err := layers.NewPoolGPU(m, p, in)
			if err != nil {
				return nil, err
			}
			x, err := upload(m, randFloats(rng, in.Len()))
			if err != nil {
				return nil, err
			}
			y, _ := upload(m, randFloats(rng, g.Out.Len()))
			dx, _ := upload(m, randFloats(rng, in.Len()))
			fwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { g.Forward(s, x, y) })
			if err != nil {
				return nil, err
			}
			bwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { g.Backward(s, y, dx) })
			if err != nil {
				return nil, err
			}
			gp, err := layers.NewGlobalPoolGPU(m, in)
			if err != nil {
				return nil, err
			}
			gpo, _ := upload(m, randFloats(rng, in.N*in.C))
			gfwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { gp.Forward(s, x, gpo) })
			if err != nil {
				return nil, err
			}
			gbwd, err := timeSeq(m, reps, func(s *gpu.Sequence) { gp.Backward(s, gpo, dx) })
			if err != nil {
				return nil, err
			}
			// Bytes: the input once, the output (and argmax) once.
			xb, yb := float64(in.Bytes()), float64(g.Out.Bytes())
			rows = append(rows,
				memRow{Layer: "maxpool 3x3/2", Shape: in.String(), Pass: "forward", Ms: fwd / 1e6, Bytes: xb + 2*yb},
				memRow{Layer: "maxpool 3x3/2", Shape: in.String(), Pass: "backward", Ms: bwd / 1e6, Bytes: xb + 2*yb},
				memRow{Layer: "global avg", Shape: in.String(), Pass: "forward", Ms: gfwd / 1e6, Bytes: xb},
				memRow{Layer: "global avg", Shape: in.String(), Pass: "backward", Ms: gbwd / 1e6, Bytes: xb})
		}
		return rows, nil
	})
}
