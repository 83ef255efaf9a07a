package gpu

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestStagedTransfers takes the path of discrete GPUs (copies through a
// staging buffer) on whatever device there is, across chunk boundaries.
func TestStagedTransfers(t *testing.T) {
	m, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	m.forceStaging = true
	rng := rand.New(rand.NewPCG(9, 9))
	for _, size := range []int{4, 4099, stagingChunk + 12} {
		b, err := m.NewBuffer(uint64(size))
		if err != nil {
			t.Fatal(err)
		}
		if b.mapped != nil {
			t.Fatal("buffer was mapped despite forceStaging")
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if err := b.Write(0, data); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, size-3)
		if err := b.Read(3, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[3:]) {
			t.Errorf("size %d: staged round trip differs", size)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, msg := range m.Messages() {
		t.Errorf("validation: %s", msg)
	}
}
