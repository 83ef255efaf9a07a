package infer

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/imagefolder"
	"github.com/vknn/vknn/nn"
)

// Options configure Open.
type Options struct {
	GPU   int  // the Vulkan device
	CPU   bool // the CPU reference instead (slow)
	Batch int  // images a pass (0: 64)
	// Norm replaces the checkpoint's normalisation (needed for
	// checkpoints that do not record one).
	Norm *data.Norm
}

// Classifier is a trained model ready to classify images.
type Classifier struct {
	Meta  Meta
	Model *nn.Model
	exec  nn.Executor
	mgr   *gpu.Manager
}

// Open loads the checkpoint at path and rebuilds its model on the device.
func Open(path string, o Options) (*Classifier, error) {
	model, st, meta, err := Load(path)
	if err != nil {
		return nil, err
	}
	if o.Norm != nil {
		meta.Norm = *o.Norm
	}
	if meta.Norm.Mean == nil {
		return nil, fmt.Errorf("%s records no normalisation (it was written before checkpoints kept one): give the training data to compute it", path)
	}
	if o.Batch == 0 {
		o.Batch = 64
	}
	c := &Classifier{Meta: meta, Model: model}
	opt := nn.SGD{} // never steps
	if o.CPU {
		c.exec, err = nn.NewCPU(model, opt, o.Batch, nn.Options{})
	} else {
		if c.mgr, err = gpu.Open(o.GPU, gpu.Options{}); err != nil {
			return nil, err
		}
		c.exec, err = nn.NewGPU(c.mgr, model, opt, o.Batch, nn.Options{})
	}
	if err == nil {
		err = c.exec.SetState(st)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the device.
func (c *Classifier) Close() error {
	var err error
	if c.exec != nil {
		err = c.exec.Close()
	}
	if c.mgr != nil {
		err = errors.Join(err, c.mgr.Close())
	}
	return err
}

// Prediction is one class and its probability.
type Prediction struct {
	Label int     `json:"label"`
	Class string  `json:"class"`
	Prob  float64 `json:"prob"`
}

// Normalize turns images into the model's input: each brought to its size
// (bilinear scaling), read as RGB planes and normalised as in training.
func (c *Classifier) Normalize(imgs []image.Image) []float32 {
	in := c.Meta.Input
	set := &data.Set{Shape: data.Shape{C: in.C, H: in.H, W: in.W}, Classes: c.Meta.Classes,
		Labels: make([]int32, len(imgs))}
	for _, img := range imgs {
		set.Images = append(set.Images, imagefolder.Pixels(img, in.H, in.W)...)
	}
	x, _ := data.Normalized(set, c.Meta.Norm)
	return x
}

// Classify returns each image's k most probable classes, most probable
// first.
func (c *Classifier) Classify(imgs []image.Image, k int) ([][]Prediction, error) {
	if c.Meta.Input.C != 3 {
		return nil, fmt.Errorf("infer: the model takes %d-channel images; Classify reads RGB", c.Meta.Input.C)
	}
	logits, err := c.exec.Predict(c.Normalize(imgs))
	if err != nil {
		return nil, err
	}
	n := len(c.Meta.Classes)
	out := make([][]Prediction, len(imgs))
	for i := range imgs {
		p := softmax(logits[i*n : (i+1)*n])
		order := make([]int, n)
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		for _, j := range order[:min(k, n)] {
			out[i] = append(out[i], Prediction{Label: j, Class: c.Meta.Classes[j], Prob: p[j]})
		}
	}
	return out, nil
}

// softmax of one row of logits, in float64.
// crossEntropy is -log softmax(z)[label], computed as log-sum-exp so that
// a confident wrong answer gives a large loss rather than +Inf.
func crossEntropy(z []float32, label int) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum) - float64(z[label])
}

func softmax(z []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	p := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		p[i] = math.Exp(float64(v) - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// Report is how a model does on a labelled set.
type Report struct {
	Images    int       `json:"images"`
	Loss      float64   `json:"loss"` // mean cross-entropy
	Accuracy  float64   `json:"accuracy"`
	Classes   []string  `json:"classes"`
	PerClass  []float64 `json:"-"`         // accuracy by true class (NaN where a class has no image)
	Confusion [][]int   `json:"confusion"` // [true][predicted] counts
}

// Evaluate runs the model on every image of s (whose classes must be the
// model's, in the same order).
func (c *Classifier) Evaluate(s *data.Set) (*Report, error) {
	if err := c.check(s); err != nil {
		return nil, err
	}
	x, y := data.Normalized(s, c.Meta.Norm)
	logits, err := c.exec.Predict(x)
	if err != nil {
		return nil, err
	}
	n := len(c.Meta.Classes)
	r := &Report{Images: s.Len(), Classes: c.Meta.Classes, PerClass: make([]float64, n), Confusion: make([][]int, n)}
	for i := range r.Confusion {
		r.Confusion[i] = make([]int, n)
	}
	correct := 0
	for i, label := range y {
		row := logits[i*n : (i+1)*n]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		r.Confusion[label][best]++
		if best == int(label) {
			correct++
		}
		r.Loss += crossEntropy(row, int(label))
	}
	r.Loss /= float64(max(s.Len(), 1))
	r.Accuracy = float64(correct) / float64(max(s.Len(), 1))
	for i, row := range r.Confusion {
		total := 0
		for _, v := range row {
			total += v
		}
		r.PerClass[i] = math.NaN()
		if total > 0 {
			r.PerClass[i] = float64(row[i]) / float64(total)
		}
	}
	return r, nil
}

// check reports an error unless s can be evaluated by the model.
func (c *Classifier) check(s *data.Set) error {
	in := c.Meta.Input
	if s.Shape != (data.Shape{C: in.C, H: in.H, W: in.W}) {
		return fmt.Errorf("infer: the set's images are %v, the model takes %v", s.Shape, in)
	}
	if len(s.Classes) != len(c.Meta.Classes) {
		return fmt.Errorf("infer: the set has %d classes, the model %d", len(s.Classes), len(c.Meta.Classes))
	}
	for i, name := range s.Classes {
		if name != c.Meta.Classes[i] {
			return fmt.Errorf("infer: the set's class %d is %q, the model's %q", i, name, c.Meta.Classes[i])
		}
	}
	return s.Check()
}
