package resnet

import (
	"fmt"
	"strconv"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/layers"
)

// Stepper is what trains: the GPU Trainer or the CPUTrainer.
type Stepper interface {
	Step(images []float32, labels []int32, opt layers.SGD) (loss float32, correct int, err error)
	Eval(images []float32, labels []int32) (loss float64, correct int, err error)
	State() (params, state, momentum []float32, err error)
	SetState(params, state, momentum []float32) error
}

// momentumPrefix names the optimizer's momentum tensors in checkpoints.
const momentumPrefix = "optimizer.momentum."

// Checkpoint packs flat parameters, state and momentum into named tensors
// (PyTorch's names: conv1.weight, layer1.0.bn1.running_mean, ...) with
// metadata describing the architecture.
func (m *Model) Checkpoint(params, state, momentum []float32, meta map[string]string) *checkpoint.File {
	f := &checkpoint.File{Metadata: map[string]string{
		"format":   "vknn",
		"arch":     m.Cfg.Name(),
		"depth":    strconv.Itoa(m.Cfg.Depth()),
		"plain":    strconv.FormatBool(m.Cfg.Plain),
		"shortcut": string(rune(m.Cfg.Shortcut)),
		"classes":  strconv.Itoa(m.Cfg.Classes),
	}}
	for k, v := range meta {
		f.Metadata[k] = v
	}
	add := func(prefix string, ts []Tensor, flat []float32) {
		for _, t := range ts {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: prefix + t.Name, Shape: t.Shape,
				Data: append([]float32(nil), flat[t.Offset:t.Offset+t.Len]...)})
		}
	}
	add("", m.Params, params)
	add("", m.State, state)
	if momentum != nil {
		add(momentumPrefix, m.Params, momentum)
	}
	return f
}

// Restore unpacks a checkpoint made by Checkpoint for this model. It fails,
// naming the difference, when the checkpoint is of another architecture or
// a tensor is missing or has another shape. momentum is nil when the
// checkpoint has none.
func (m *Model) Restore(f *checkpoint.File) (params, state, momentum []float32, err error) {
	if a := f.Metadata["arch"]; a != "" && a != m.Cfg.Name() {
		return nil, nil, nil, fmt.Errorf("checkpoint is of %s, the model is %s", a, m.Cfg.Name())
	}
	if s := f.Metadata["shortcut"]; s != "" && !m.Cfg.Plain && s != string(rune(m.Cfg.Shortcut)) {
		return nil, nil, nil, fmt.Errorf("checkpoint uses shortcut option %s, the model %c", s, m.Cfg.Shortcut)
	}
	get := func(prefix string, ts []Tensor, flat []float32) error {
		for _, t := range ts {
			ct, ok := f.Get(prefix + t.Name)
			if !ok {
				return fmt.Errorf("checkpoint has no tensor %s", prefix+t.Name)
			}
			if !sameShape(ct.Shape, t.Shape) {
				return fmt.Errorf("checkpoint tensor %s has shape %v, the model needs %v", prefix+t.Name, ct.Shape, t.Shape)
			}
			copy(flat[t.Offset:], ct.Data)
		}
		return nil
	}
	params, state = make([]float32, m.NParam), make([]float32, m.NState)
	if err := get("", m.Params, params); err != nil {
		return nil, nil, nil, err
	}
	if err := get("", m.State, state); err != nil {
		return nil, nil, nil, err
	}
	if _, ok := f.Get(momentumPrefix + m.Params[0].Name); ok {
		momentum = make([]float32, m.NParam)
		if err := get(momentumPrefix, m.Params, momentum); err != nil {
			return nil, nil, nil, err
		}
	}
	return params, state, momentum, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
