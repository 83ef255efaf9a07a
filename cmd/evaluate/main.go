// Command evaluate measures a trained model on a labelled set: accuracy,
// loss, accuracy by class, and the confusion matrix as a picture.
//
//	evaluate --checkpoint runs/resnet20/best.safetensors --data cifar-10-binary.tar.gz
//	evaluate --checkpoint best.safetensors --data pictures/ --json
//
// The set is the data's test set when it has one, else the validation
// split that train held out (the last --val images: the checkpoint's own
// --val by default), so that evaluate gives the figure train reported.
// The checkpoint says which model it is of, its classes and the
// normalisation its training used (for checkpoints older than that, the
// normalisation is computed from the data's training split, as train did).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/datasets"
	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/internal/cli"
)

func main() { cli.Main("evaluate", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "the model's checkpoint")
	dataPath := fs.String("data", "", "the labelled set: CIFAR-10/100 or an image folder (as train's --data)")
	split := fs.String("split", "", "test, val or all (default: test when the data has one, else val)")
	val := fs.Int("val", -1, "the validation split's size (default: the checkpoint's run's --val, else 5000)")
	labels := fs.String("labels", "fine", "CIFAR-100's labels: fine or coarse")
	imageSize := fs.Int("image-size", 0, "bring an image folder's images to this size (default: the model's input)")
	confusion := fs.String("confusion", "confusion.png", "where to draw the confusion matrix (empty: nowhere)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	gpu := fs.Int("gpu", 0, "Vulkan device index")
	cpu := fs.Bool("cpu", false, "use the CPU reference path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || *dataPath == "" {
		return errors.New("--checkpoint and --data are needed")
	}
	f, err := checkpoint.Load(*ckpt)
	if err != nil {
		return err
	}
	meta, err := infer.ReadMeta(f)
	if err != nil {
		return err
	}
	if *val < 0 {
		*val = 5000
		if v, err := strconv.Atoi(f.Metadata["val"]); err == nil {
			*val = v
		}
	}
	if *imageSize == 0 && meta.Input.H == meta.Input.W {
		*imageSize = meta.Input.H
	}
	d, err := datasets.Load(*dataPath, datasets.Options{Labels: *labels, Size: *imageSize, Log: stderr})
	if err != nil {
		return err
	}
	set, norm, err := choose(d, *split, *val)
	if err != nil {
		return err
	}
	o := infer.Options{GPU: *gpu, CPU: *cpu}
	if meta.Norm.Mean == nil {
		fmt.Fprintln(stderr, "evaluate: the checkpoint records no normalisation: computed from the data's training split, as train did")
		o.Norm = &norm
	}
	c, err := infer.Open(*ckpt, o)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Evaluate(set)
	if err != nil {
		return err
	}
	if *confusion != "" {
		if err := drawConfusion(*confusion, r); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%s on %s (%s, %d images): accuracy %.2f%% (%d correct), loss %.4f\n", meta.Arch, *dataPath, splitName(d, *split),
		r.Images, 100*r.Accuracy, int(math.Round(r.Accuracy*float64(r.Images))), r.Loss)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "class\timages\taccuracy")
	for i, name := range r.Classes {
		total := 0
		for _, v := range r.Confusion[i] {
			total += v
		}
		fmt.Fprintf(w, "%s\t%d\t%.2f%%\n", name, total, 100*r.PerClass[i])
	}
	w.Flush()
	if *confusion != "" {
		fmt.Fprintf(stdout, "confusion matrix: %s\n", *confusion)
	}
	return nil
}

// choose picks the set to evaluate, and the training split's
// normalisation (for checkpoints that do not record theirs).
func choose(d *data.Data, split string, val int) (*data.Set, data.Norm, error) {
	train, valSet := d.Train, (*data.Set)(nil)
	if val > 0 && d.Train.Len() > val {
		var err error
		if train, valSet, err = data.Split(d.Train, val); err != nil {
			return nil, data.Norm{}, err
		}
	}
	norm := data.Stats(train)
	if split == "" {
		split = "val"
		if d.Test != nil {
			split = "test"
		}
	}
	switch split {
	case "test":
		if d.Test == nil {
			return nil, norm, errors.New("--split test: the data has no test set")
		}
		return d.Test, norm, nil
	case "val":
		if valSet == nil {
			return nil, norm, fmt.Errorf("--split val: a validation split of %d leaves nothing of %d images", val, d.Train.Len())
		}
		return valSet, norm, nil
	case "all":
		return d.Train, norm, nil
	}
	return nil, norm, fmt.Errorf("--split %q: want test, val or all", split)
}

func splitName(d *data.Data, split string) string {
	if split != "" {
		return split
	}
	if d.Test != nil {
		return "test"
	}
	return "validation split"
}
