package gpu

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestStagedTransfers takes the path of discrete GPUs (copies through a
// staging buffer) on whatever device there is, across chunk boundaries.
func TestStagedTransfers(t *testing.T) {
	m, err := Open(0, Options{Validate: true, Staged: true})
	if err != nil {
		t.Fatal(err)
	}
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

// TestConfigFromEnv: the settings CI's matrix gives through the
// environment take effect: VKNN_STAGED=1 leaves buffers unmapped, and
// LP_NATIVE_VECTOR_WIDTH sets lavapipe's subgroup size (width/32).
func TestConfigFromEnv(t *testing.T) {
	m, err := Open(0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, err := m.NewBuffer(16)
	if err != nil {
		t.Fatal(err)
	}
	direct := m.info.Type == "cpu" || m.info.Type == "integrated"
	if staged := os.Getenv("VKNN_STAGED") == "1"; (b.mapped == nil) != (staged || !direct) {
		t.Errorf("VKNN_STAGED=%q on a %s device: buffer mapped %v", os.Getenv("VKNN_STAGED"), m.info.Type, b.mapped != nil)
	}
	if w, err := strconv.Atoi(os.Getenv("LP_NATIVE_VECTOR_WIDTH")); err == nil && strings.Contains(m.info.Name, "llvmpipe") {
		if int(m.info.SubgroupSize) != w/32 {
			t.Errorf("LP_NATIVE_VECTOR_WIDTH=%d: subgroup size %d, want %d", w, m.info.SubgroupSize, w/32)
		}
	}
	t.Logf("%s: subgroup %d, staged %v", m.info.Name, m.info.SubgroupSize, b.mapped == nil)
}
