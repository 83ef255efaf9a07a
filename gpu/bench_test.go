package gpu_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

// BenchmarkSubmitEmpty is the round trip of submitting an empty command
// buffer and waiting on its fence.
func BenchmarkSubmitEmpty(b *testing.B) {
	m := testgpu.OpenBench(b)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.Submit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/submit")
}

// BenchmarkExtraDispatch is the cost of one more dispatch (with the
// barrier a dependency needs) inside a recorded sequence: a chain of 101
// tiny dependent dispatches against a single one, alternated.
func BenchmarkExtraDispatch(b *testing.B) {
	m := testgpu.OpenBench(b)
	axpy := kernel(b, m, axpySpec)
	x, y := testgpu.Upload(b, m, make([]float32, 64)), testgpu.Upload(b, m, make([]float32, 64))
	chain := func(n int) *gpu.Sequence {
		s, err := m.NewSequence(gpu.SequenceOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			s.Dispatch(axpy, gpu.Groups{1, 1, 1}, []uint32{64, 0}, x, y)
		}
		return s
	}
	one, many := chain(1), chain(101)
	var tOne, tMany time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := one.Submit(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := many.Submit(); err != nil {
			b.Fatal(err)
		}
		tOne += t1.Sub(t0)
		tMany += time.Since(t1)
	}
	b.ReportMetric(float64((tMany-tOne).Microseconds())/100/float64(b.N), "µs/dispatch")
}

func benchTransfer(b *testing.B, upload bool) {
	m := testgpu.OpenBench(b)
	const size = 64 << 20
	buf, err := m.NewBuffer(size)
	if err != nil {
		b.Fatal(err)
	}
	host := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range host {
		host[i] = byte(rng.Uint32())
	}
	b.SetBytes(size)
	for b.Loop() {
		if upload {
			err = buf.Write(0, host)
		} else {
			err = buf.Read(0, host)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpload64MiB is host-to-device bandwidth (MB/s in the output).
func BenchmarkUpload64MiB(b *testing.B) { benchTransfer(b, true) }

// BenchmarkDownload64MiB is device-to-host bandwidth.
func BenchmarkDownload64MiB(b *testing.B) { benchTransfer(b, false) }
