package main

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/vknn/vknn/runlog"
)

// redraw plots the error curves in dir/metrics.jsonl to dir/errors.png,
// in the manner of the paper's Fig. 6: training error dashed (every
// --log-every steps from curve.jsonl where it is there), validation
// (and test) error bold, against iterations. Damaged lines are skipped,
// with a warning to warn.
func redraw(dir string, warn io.Writer) error {
	path := filepath.Join(dir, runlog.MetricsFile)
	all, skipped, err := runlog.Epochs(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if skipped > 0 {
		fmt.Fprintf(warn, "warning: plot: skipped %d damaged line(s) of %s\n", skipped, path)
	}
	curve, _, _ := runlog.Points(filepath.Join(dir, runlog.CurveFile))
	p := plot.New()
	p.Title.Text = "CIFAR-10 error"
	p.X.Label.Text = "iterations"
	p.Y.Label.Text = "error (%)"
	p.Add(plotter.NewGrid())
	series := []struct {
		name  string
		value func(m runlog.Epoch) *float64
		color color.Color
		dash  bool
	}{
		{"train", func(m runlog.Epoch) *float64 { v := m.TrainErr; return &v }, color.RGBA{R: 200, A: 255}, true},
		{"validation", func(m runlog.Epoch) *float64 { return m.ValErr }, color.RGBA{R: 200, A: 255}, false},
		{"test", func(m runlog.Epoch) *float64 { return m.TestErr }, color.RGBA{B: 200, A: 255}, false},
	}
	for _, s := range series {
		var pts plotter.XYs
		for _, m := range all {
			if v := s.value(m); v != nil {
				pts = append(pts, plotter.XY{X: float64(m.Step), Y: 100 * *v})
			}
		}
		if s.name == "train" && len(curve) > 0 {
			// Every --log-every steps rather than every epoch.
			pts = pts[:0]
			for _, c := range curve {
				pts = append(pts, plotter.XY{X: float64(c.Step), Y: 100 * c.TrainErr})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		points.Color = s.color
		points.Radius = vg.Points(1.5)
		line.Color = s.color
		line.Width = vg.Points(2)
		if s.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			line.Width = vg.Points(1)
		}
		p.Add(line, points)
		p.Legend.Add(s.name, line)
	}
	p.Legend.Top = true
	p.Y.Min = 0
	if err := p.Save(6*vg.Inch, 4*vg.Inch, filepath.Join(dir, plotFile)); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
