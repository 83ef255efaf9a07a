package experiment

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// palette gives each depth of a panel its colour (the paper's order:
// shallowest first).
var palette = []color.RGBA{
	{R: 230, G: 160, B: 0, A: 255}, {R: 0, G: 114, B: 178, A: 255}, {R: 0, G: 158, B: 115, A: 255},
	{R: 213, G: 44, B: 0, A: 255}, {R: 120, G: 60, B: 160, A: 255}, {R: 90, G: 90, B: 90, A: 255},
}

// Plot draws the results as the paper's Fig. 6 does, one panel per group
// side by side: training error thin and dashed, held-out error (test when
// there is one, else validation) bold, one colour per depth, % error
// against iterations; it writes a PNG to path.
func Plot(path string, results []Result) error {
	gs := groups(results)
	if len(gs) == 0 {
		return fmt.Errorf("plot: no runs to draw")
	}
	row := make([]*plot.Plot, len(gs))
	for i, g := range gs {
		p := plot.New()
		p.Title.Text = g[0].Group
		p.X.Label.Text = "iterations"
		p.Y.Label.Text = "error (%)"
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		for j, r := range g {
			c := palette[j%len(palette)]
			var train, held plotter.XYs
			for _, pt := range r.Curve {
				train = append(train, plotter.XY{X: float64(pt.Step), Y: 100 * pt.TrainErr})
			}
			for _, e := range r.Epochs {
				if v := heldErr(e); v != nil {
					held = append(held, plotter.XY{X: float64(e.Step), Y: 100 * *v})
				}
			}
			if len(train) > 0 {
				l, err := plotter.NewLine(train)
				if err != nil {
					return fmt.Errorf("plot: %s: %w", r.Name, err)
				}
				l.Color, l.Width, l.Dashes = c, vg.Points(0.8), []vg.Length{vg.Points(3), vg.Points(2)}
				p.Add(l)
				p.Legend.Add(r.Name+" train", l)
			}
			if len(held) > 0 {
				l, pts, err := plotter.NewLinePoints(held)
				if err != nil {
					return fmt.Errorf("plot: %s: %w", r.Name, err)
				}
				l.Color, l.Width, pts.Color, pts.Radius = c, vg.Points(2.2), c, vg.Points(2.5)
				p.Add(l, pts)
				p.Legend.Add(r.Name+" "+heldName(r), l)
			}
		}
		// Error curves fall from the top left: the legend goes bottom
		// left, below them, on an axis that ends at 100%.
		p.Legend.Left = true
		p.Y.Max = 100
		row[i] = p
	}
	const w, h = 5 * vg.Inch, 4 * vg.Inch
	img := vgimg.New(w*vg.Length(len(row)), h)
	dc := draw.New(img)
	canvases := plot.Align([][]*plot.Plot{row}, draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Millimeter * 4}, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %w", err)
	}
	return f.Close()
}

// heldName says which held-out error a run's bold line is.
func heldName(r Result) string {
	for _, e := range r.Epochs {
		if e.TestErr != nil {
			return "test"
		}
	}
	return "val"
}
