package nn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/vknn/vknn/checkpoint"
)

// optimizerPrefix names the optimizer's tensors in checkpoints:
// optimizer.<slot>.<parameter> (e.g. optimizer.momentum.fc.weight).
const optimizerPrefix = "optimizer."

// Checkpoint packs a state into named tensors (the parameters and buffers
// under their PyTorch names, then the optimizer's slots; opt may be nil)
// with the metadata meta, the model's Meta, and "format", "arch" (the
// model's name) and "optimizer_step", which the others cannot override.
func (m *Model) Checkpoint(st *State, opt Optimizer, meta map[string]string) (*checkpoint.File, error) {
	if err := m.checkState(st, opt); err != nil {
		return nil, err
	}
	f := &checkpoint.File{Metadata: map[string]string{}}
	for _, kv := range []map[string]string{meta, m.Meta,
		{"format": "vknn", "arch": m.Name, "optimizer_step": strconv.Itoa(st.Step)}} {
		for k, v := range kv {
			f.Metadata[k] = v
		}
	}
	add := func(prefix string, ps []*Param, flat []float32) {
		for _, p := range ps {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: prefix + p.Name, Shape: p.Shape, Data: clone(p.Of(flat))})
		}
	}
	add("", m.Params, st.Params)
	add("", m.Buffers, st.Buffers)
	if opt != nil {
		for i, slot := range opt.Slots() {
			if i < len(st.Slots) {
				add(optimizerPrefix+slot+".", m.Params, st.Slots[i])
			}
		}
	}
	return f, nil
}

// Restore unpacks a checkpoint for this model and optimizer (nil: the
// parameters and buffers only). It fails, naming the difference, when the
// checkpoint is of another architecture (its "arch" or a Meta key says
// so) or a tensor is missing or of another shape. A checkpoint without
// the optimizer's tensors restores with no optimizer state, at step 0:
// the optimizer starts afresh (AdamW's bias correction included).
func (m *Model) Restore(f *checkpoint.File, opt Optimizer) (*State, error) {
	if a := f.Metadata["arch"]; a != "" && a != m.Name {
		return nil, fmt.Errorf("nn: checkpoint is of %s, the model is %s", a, m.Name)
	}
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if got, ok := f.Metadata[k]; ok && got != m.Meta[k] {
			return nil, fmt.Errorf("nn: checkpoint has %s %s, the model %s", k, got, m.Meta[k])
		}
	}
	get := func(prefix string, ps []*Param, flat []float32) error {
		for _, p := range ps {
			t, ok := f.Get(prefix + p.Name)
			if !ok {
				return fmt.Errorf("nn: checkpoint has no tensor %s", prefix+p.Name)
			}
			if !slices.Equal(t.Shape, p.Shape) || len(t.Data) != p.Len {
				return fmt.Errorf("nn: checkpoint tensor %s has shape %v, the model needs %v", prefix+p.Name, t.Shape, p.Shape)
			}
			copy(p.Of(flat), t.Data)
		}
		return nil
	}
	st := &State{Params: make([]float32, m.NParam), Buffers: make([]float32, m.NBuffer)}
	if err := get("", m.Params, st.Params); err != nil {
		return nil, err
	}
	if err := get("", m.Buffers, st.Buffers); err != nil {
		return nil, err
	}
	if opt != nil && len(m.Params) > 0 {
		for _, slot := range opt.Slots() {
			prefix := optimizerPrefix + slot + "."
			if _, ok := f.Get(prefix + m.Params[0].Name); !ok {
				st.Slots = nil
				break
			}
			flat := make([]float32, m.NParam)
			if err := get(prefix, m.Params, flat); err != nil {
				return nil, err
			}
			st.Slots = append(st.Slots, flat)
		}
	}
	if opt != nil && st.Slots == nil && len(opt.Slots()) > 0 {
		return st, nil // the optimizer starts afresh
	}
	for _, key := range []string{"optimizer_step", "step"} {
		if s, ok := f.Metadata[key]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("nn: checkpoint metadata %s=%q is not a step", key, s)
			}
			st.Step = n
			break
		}
	}
	return st, nil
}
