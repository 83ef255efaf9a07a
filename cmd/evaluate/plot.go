package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/vknn/vknn/infer"
)

// confusionGrid is a confusion matrix as a heat map's grid: rows of true
// classes (the first at the top), columns of predicted ones, each cell the
// share of its true class.
type confusionGrid struct{ r *infer.Report }

func (g confusionGrid) Dims() (c, r int) { return len(g.r.Classes), len(g.r.Classes) }
func (g confusionGrid) X(c int) float64  { return float64(c) }
func (g confusionGrid) Y(r int) float64  { return float64(r) }
func (g confusionGrid) Z(c, r int) float64 {
	row := g.r.Confusion[len(g.r.Classes)-1-r]
	total := 0
	for _, v := range row {
		total += v
	}
	if total == 0 {
		return 0
	}
	return float64(row[c]) / float64(total)
}

// drawConfusion draws the report's confusion matrix to a PNG file.
func drawConfusion(path string, r *infer.Report) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("confusion: accuracy %.2f%% of %d images", 100*r.Accuracy, r.Images)
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	pal := moreland.SmoothBlueRed().Palette(255)
	hm := plotter.NewHeatMap(confusionGrid{r}, pal)
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	n := len(r.Classes)
	var xt, yt []plot.Tick
	for i, name := range r.Classes {
		xt = append(xt, plot.Tick{Value: float64(i), Label: name})
		yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: name})
	}
	if n <= 30 {
		p.X.Tick.Marker = plot.ConstantTicks(xt)
		p.Y.Tick.Marker = plot.ConstantTicks(yt)
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = -1, -0.5
	}
	p.BackgroundColor = color.White
	size := vg.Length(math.Max(5, float64(n)*0.45)) * vg.Inch
	if err := p.Save(size, size, path); err != nil {
		return fmt.Errorf("confusion matrix: %w", err)
	}
	return nil
}
