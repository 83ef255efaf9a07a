package checkpoint

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func sample() *File {
	return &File{
		Tensors: []Tensor{
			{Name: "conv1.weight", Shape: []int{2, 1, 3, 3}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6, -7, -8, -9}},
			{Name: "bn1.bias", Shape: []int{2}, Data: []float32{0.5, -0.25}},
			{Name: "scalar", Shape: []int{}, Data: []float32{3}},
		},
		Metadata: map[string]string{"arch": "resnet20", "step": "7"},
	}
}

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Encode(&b, sample()))
	n := binary.LittleEndian.Uint64(b.Bytes())
	require.Zero(t, (8+n)%8, "data is 8-byte aligned")
	got, err := Decode(b.Bytes())
	require.NoError(t, err)
	require.Equal(t, sample(), got)
	tt, ok := got.Get("bn1.bias")
	require.True(t, ok)
	require.Equal(t, []float32{0.5, -0.25}, tt.Data)
}

func TestDecodeRejects(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Encode(&b, sample()))
	good := b.Bytes()
	cases := map[string][]byte{
		"empty":            nil,
		"short":            good[:5],
		"header too long":  append(binary.LittleEndian.AppendUint64(nil, 1<<40), good[8:]...),
		"truncated data":   good[:len(good)-4],
		"not json":         append(binary.LittleEndian.AppendUint64(nil, 3), []byte("{x}")...),
		"bad dtype":        header(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, 2),
		"offsets mismatch": header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8),
		"negative shape":   header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"huge shape":       header(`{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4]}}`, 4),
		"offset past end":  header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 4),
		"bad metadata":     header(`{"__metadata__":{"a":1}}`, 0),
	}
	for name, data := range cases {
		_, err := Decode(data)
		require.Error(t, err, name)
	}
	err := Encode(&bytes.Buffer{}, &File{Tensors: []Tensor{{Name: "a", Shape: []int{3}, Data: []float32{1}}}})
	require.Error(t, err, "shape and data disagree")
}

func header(js string, dataBytes int) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(out, js...)
	return append(out, make([]byte, dataBytes)...)
}

func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "last.safetensors")
	require.NoError(t, Save(path, sample()))
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	// A failed save (here: a malformed tensor) leaves the old file intact
	// and no temporary file behind.
	bad := &File{Tensors: []Tensor{{Name: "x", Shape: []int{2}, Data: []float32{1}}}}
	require.Error(t, Save(path, bad))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after)
	entries, _ := os.ReadDir(dir)
	require.Len(t, entries, 1)
	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, sample(), got)
}

// FuzzDecode: any input gives a file or an error, never a panic or an
// allocation sized by an unchecked header field.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	Encode(&b, sample())
	f.Add(b.Bytes())
	f.Add(header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, file); err != nil {
			t.Fatalf("decoded file does not encode: %v", err)
		}
	})
}
