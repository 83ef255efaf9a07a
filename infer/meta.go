// Package infer uses a trained model: it rebuilds the model a checkpoint
// was written for, with the normalisation and class names the checkpoint
// records, and classifies images or evaluates a labelled set, on the GPU
// or the CPU reference.
package infer

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/zoo"
)

// Meta is what a checkpoint says of its model and the data it was trained
// on.
type Meta struct {
	Arch     string // the zoo's name, e.g. "resnet20"
	Shortcut byte   // a ResNet's shortcut option
	Classes  []string
	Input    nn.Shape
	Norm     data.Norm
}

// Describe is the metadata a checkpoint keeps of the data its model was
// trained on: the normalisation, the class names and the input shape.
func Describe(norm data.Norm, classes []string, in nn.Shape) map[string]string {
	names, _ := json.Marshal(classes)
	return map[string]string{"normalization": norm.String(), "class_names": string(names), "input_shape": in.String()}
}

// ReadMeta reads a checkpoint's description of its model and data.
// Checkpoints written before these were recorded (CIFAR-10 ResNets) give
// CIFAR-10's classes and input, and no normalisation: Norm is then nil and
// must come from the training data (data.Stats).
func ReadMeta(f *checkpoint.File) (Meta, error) {
	md := f.Metadata
	m := Meta{Arch: md["arch"], Input: nn.Shape{C: 3, H: 32, W: 32}}
	if m.Arch == "" {
		return m, fmt.Errorf("infer: the checkpoint does not say which model it is of (no \"arch\")")
	}
	if s := md["shortcut"]; len(s) == 1 {
		m.Shortcut = s[0]
	} else {
		m.Shortcut = 'A'
	}
	if s, ok := md["input_shape"]; ok {
		if _, err := fmt.Sscanf(s, "%dx%dx%d", &m.Input.C, &m.Input.H, &m.Input.W); err != nil {
			return m, fmt.Errorf("infer: the checkpoint's input_shape %q: %w", s, err)
		}
	}
	if s, ok := md["class_names"]; ok {
		if err := json.Unmarshal([]byte(s), &m.Classes); err != nil {
			return m, fmt.Errorf("infer: the checkpoint's class_names: %w", err)
		}
	} else {
		n := 10
		if s, ok := md["classes"]; ok {
			var err error
			if n, err = strconv.Atoi(s); err != nil || n < 1 {
				return m, fmt.Errorf("infer: the checkpoint's classes %q", s)
			}
		}
		if n == 10 {
			m.Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
		} else {
			for i := range n {
				m.Classes = append(m.Classes, strconv.Itoa(i))
			}
		}
	}
	if s, ok := md["normalization"]; ok {
		var err error
		if m.Norm, err = data.ParseNorm(s, m.Input.C); err != nil {
			return m, fmt.Errorf("infer: the checkpoint's %w", err)
		}
	}
	return m, nil
}

// Load rebuilds the model a checkpoint was written for and reads its
// parameters and description.
func Load(path string) (*nn.Model, *nn.State, Meta, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, Meta{}, err
	}
	meta, err := ReadMeta(f)
	if err != nil {
		return nil, nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	model, err := zoo.ByName(meta.Arch, zoo.Options{Shortcut: meta.Shortcut, Classes: len(meta.Classes), Input: meta.Input})
	if err != nil {
		return nil, nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	st, err := model.Restore(f, nil)
	if err != nil {
		return nil, nil, meta, fmt.Errorf("%s: %w", path, err)
	}
	return model, st, meta, nil
}
