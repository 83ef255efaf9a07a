// Package testgpu is what GPU tests share: a Manager with validation on
// that fails the test on any validation message, poisoned buffers, random
// inputs and the relative-error measure that GPU and CPU results are
// compared by.
package testgpu

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/perf"
)

// index is the device $VKNN_TEST_GPU names (default 0).
func index(t testing.TB) int {
	t.Helper()
	idx := 0
	if s := os.Getenv("VKNN_TEST_GPU"); s != "" {
		var err error
		if idx, err = strconv.Atoi(s); err != nil {
			t.Fatalf("VKNN_TEST_GPU=%q: %v", s, err)
		}
	}
	return idx
}

// OpenBench opens the device named by $VKNN_TEST_GPU for benchmarks:
// without the validation layer, which would dominate them.
func OpenBench(b *testing.B) *gpu.Manager {
	b.Helper()
	m, err := gpu.Open(index(b), gpu.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// Open opens the device named by $VKNN_TEST_GPU (default 0) with the
// validation layer on (unless VKNN_TEST_VALIDATE=0: for a machine that
// lacks the layer, as scripts/gpu-check.sh may meet). At cleanup it closes
// the Manager and fails the test if the layer reported anything, leaks at
// device destruction included.
func Open(t testing.TB) *gpu.Manager {
	t.Helper()
	idx := index(t)
	m, err := gpu.Open(idx, gpu.Options{Validate: os.Getenv("VKNN_TEST_VALIDATE") != "0"})
	if err != nil {
		t.Fatalf("opening device %d: %v", idx, err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
		for _, msg := range m.Messages() {
			t.Errorf("validation: %s", msg)
		}
	})
	return m
}

// Rand returns n floats uniform in [-1, 1).
func Rand(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

// Upload makes a buffer holding x.
func Upload(t testing.TB, m *gpu.Manager, x []float32) *gpu.Buffer {
	t.Helper()
	b, err := m.NewBuffer(uint64(4 * max(len(x), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFloat32(x); err != nil {
		t.Fatal(err)
	}
	return b
}

// Poisoned makes a buffer of n floats, all NaN, so that an element a
// kernel fails to write shows up in the comparison.
func Poisoned(t testing.TB, m *gpu.Manager, n int) *gpu.Buffer {
	t.Helper()
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return Upload(t, m, x)
}

// Download reads n floats from b.
func Download(t testing.TB, b *gpu.Buffer, n int) []float32 {
	t.Helper()
	x := make([]float32, n)
	if err := b.ReadFloat32(x); err != nil {
		t.Fatal(err)
	}
	return x
}

// Close fails t unless perf.RelErr(got, want) < tol.
func Close(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if e := perf.RelErr(got, want); !(e < tol) {
		t.Errorf("%s: relative error %.3g, want < %.1g", what, e, tol)
	}
}
