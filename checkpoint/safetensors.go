// Package checkpoint saves and loads tensors in the safetensors format (an
// 8-byte little-endian header length, a JSON header, then the raw
// little-endian data), so that PyTorch users can open vknn's weights.
// Writes are atomic: a temporary file, fsync, then rename.
package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// Tensor is a named float32 tensor.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the content of a checkpoint: tensors in file order, and string
// metadata.
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the tensor called name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

type entry struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// maxHeader bounds the JSON header a reader accepts.
const maxHeader = 64 << 20

// Encode writes f to w in the safetensors format.
func Encode(w io.Writer, f *File) error {
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	var off int64
	for _, t := range f.Tensors {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("checkpoint: tensor %s: shape %v has %d elements, data %d", t.Name, t.Shape, n, len(t.Data))
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("checkpoint: tensor name %q repeated or reserved", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = entry{Dtype: "F32", Shape: shape, Offsets: [2]int64{off, off + int64(4*n)}}
		off += int64(4 * n)
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for len(js)%8 != 0 { // align the data as the format recommends
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range f.Tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

// Decode reads a safetensors file of F32 tensors from data.
func Decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, errors.New("checkpoint: too short for a safetensors header")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("checkpoint: header of %d bytes does not fit a %d-byte file", n, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("checkpoint: header: %w", err)
	}
	body := data[8+n:]
	f := &File{}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Metadata); err != nil {
			return nil, fmt.Errorf("checkpoint: metadata: %w", err)
		}
		delete(raw, "__metadata__")
	}
	type placed struct {
		name string
		e    entry
	}
	var all []placed
	for name, msg := range raw {
		var e entry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("checkpoint: tensor %s: %w", name, err)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("checkpoint: tensor %s: dtype %s, only F32 is supported", name, e.Dtype)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt32/int64(d)) {
				return nil, fmt.Errorf("checkpoint: tensor %s: bad shape %v", name, e.Shape)
			}
			count *= int64(d)
		}
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end < b || end > int64(len(body)) || end-b != 4*count {
			return nil, fmt.Errorf("checkpoint: tensor %s: offsets %v do not fit shape %v in %d data bytes", name, e.Offsets, e.Shape, len(body))
		}
		all = append(all, placed{name, e})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].e.Offsets[0] < all[j].e.Offsets[0] })
	for _, p := range all {
		raw := body[p.e.Offsets[0]:p.e.Offsets[1]]
		t := Tensor{Name: p.name, Shape: p.e.Shape, Data: make([]float32, len(raw)/4)}
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

// Load reads the checkpoint at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Save writes f to path atomically: into a temporary file beside it,
// synced to disk, then renamed over path. On any failure path keeps its
// previous content.
func Save(path string, f *File) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Encode(tmp, f); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: syncing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: closing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}
