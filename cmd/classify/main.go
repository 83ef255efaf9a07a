// Command classify says what a trained model sees in image files: for
// each PNG or JPEG file (any size: it is scaled to the model's input), its
// most probable classes, one line a file.
//
//	classify --checkpoint runs/resnet20/best.safetensors cat.jpg dog.png
//	classify --checkpoint best.safetensors --top 3 --json *.jpg
//
// The checkpoint says which model it is of, its classes and the
// normalisation its training used.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/vknn/vknn/imagefolder"
	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/internal/cli"
)

func main() { cli.Main("classify", run) }

// result is one file's line.
type result struct {
	File        string             `json:"file"`
	Predictions []infer.Prediction `json:"predictions,omitempty"`
	Error       string             `json:"error,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "the model's checkpoint (train's best.safetensors or last.safetensors)")
	top := fs.Int("top", 1, "how many classes to print per file")
	asJSON := fs.Bool("json", false, "one JSON object per file instead of text")
	gpu := fs.Int("gpu", 0, "Vulkan device index")
	cpu := fs.Bool("cpu", false, "use the CPU reference path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *ckpt == "":
		return errors.New("--checkpoint is needed")
	case fs.NArg() == 0:
		return errors.New("no image files given")
	case *top < 1:
		return fmt.Errorf("--top %d: must be at least 1", *top)
	}
	c, err := infer.Open(*ckpt, infer.Options{GPU: *gpu, CPU: *cpu})
	if err != nil {
		return err
	}
	defer c.Close()
	// Decode every file first; those that fail are reported, not fatal.
	results := make([]result, fs.NArg())
	var imgs []image.Image
	var at []int
	for i, path := range fs.Args() {
		results[i].File = path
		img, err := imagefolder.DecodeFile(path, 0)
		if err != nil {
			results[i].Error = err.Error()
			continue
		}
		imgs, at = append(imgs, img), append(at, i)
	}
	if len(imgs) > 0 {
		preds, err := c.Classify(imgs, *top)
		if err != nil {
			return err
		}
		for j, i := range at {
			results[i].Predictions = preds[j]
		}
	}
	failed := 0
	enc := json.NewEncoder(stdout)
	for _, r := range results {
		if r.Error != "" {
			failed++
		}
		if *asJSON {
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		if r.Error != "" {
			fmt.Fprintf(stdout, "%s: error: %s\n", r.File, r.Error)
			continue
		}
		parts := make([]string, len(r.Predictions))
		for k, p := range r.Predictions {
			parts[k] = fmt.Sprintf("%s %.3f", p.Class, p.Prob)
		}
		fmt.Fprintf(stdout, "%s: %s\n", r.File, strings.Join(parts, ", "))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be read", failed, len(results))
	}
	return nil
}
