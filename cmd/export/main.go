// Command export writes a trained model as an ONNX graph in eval mode, to
// run in any ONNX runtime: input "input" (batch x C x H x W, normalised as
// the checkpoint's metadata says), output "logits".
//
//	export --checkpoint runs/resnet20/best.safetensors --onnx resnet20.onnx
//	export --checkpoint best.safetensors --onnx model.onnx --fold
//
// --fold folds each batch norm into the convolution before it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/internal/cli"
	"github.com/vknn/vknn/onnx"
)

func main() { cli.Main("export", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "the model's checkpoint")
	out := fs.String("onnx", "", "the ONNX file to write")
	fold := fs.Bool("fold", false, "fold batch norms into the convolutions before them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || *out == "" {
		return errors.New("--checkpoint and --onnx are needed")
	}
	m, st, meta, err := infer.Load(*ckpt)
	if err != nil {
		return err
	}
	norm := ""
	if meta.Norm.Mean != nil {
		norm = meta.Norm.String()
	} else {
		fmt.Fprintln(stderr, "export: the checkpoint records no normalisation: the ONNX file will not say how to prepare the input")
	}
	if err := onnx.Write(*out, m, st, onnx.Options{Fold: *fold, Norm: norm, Classes: meta.Classes}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s, input %v (batch x %d x %d x %d), output logits (batch x %d), opset %d\n",
		*out, meta.Arch, meta.Input, meta.Input.C, meta.Input.H, meta.Input.W, len(meta.Classes), onnx.Opset)
	return nil
}
