package gpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

// TestSequenceReplay records a chain of dependent dispatches once and
// submits it several times: each replay must see the previous one's
// results, and each dispatch its predecessor's.
func TestSequenceReplay(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(7, 8))
	axpy := kernel(t, m, axpySpec)
	const n = 1000
	x, y0 := testgpu.Rand(rng, n), testgpu.Rand(rng, n)
	xb, yb := testgpu.Upload(t, m, x), testgpu.Upload(t, m, y0)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	defer s.Close()
	for range 3 {
		s.Dispatch(axpy, groups(n), []uint32{n, math.Float32bits(0.5)}, xb, yb)
	}
	require.Equal(t, 2, s.Barriers(), "each axpy depends on the one before")
	for range 4 {
		require.NoError(t, s.Submit())
	}
	want := make([]float32, n)
	for i := range want {
		want[i] = y0[i]
		for range 12 {
			want[i] += 0.5 * x[i]
		}
	}
	testgpu.Close(t, "12 axpys", testgpu.Download(t, yb, n), want, 1e-6)
}

func TestBarrierPlacement(t *testing.T) {
	m := testgpu.Open(t)
	fwd := kernel(t, m, reluFwdSpec)
	const n = 64
	a, b, c, d := testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n)
	push := []uint32{n}
	cases := []struct {
		name     string
		record   func(s *gpu.Sequence)
		barriers int
	}{
		{"independent", func(s *gpu.Sequence) {
			s.Dispatch(fwd, groups(n), push, a, b)
			s.Dispatch(fwd, groups(n), push, c, d)
		}, 0},
		{"shared input", func(s *gpu.Sequence) {
			s.Dispatch(fwd, groups(n), push, a, b)
			s.Dispatch(fwd, groups(n), push, a, c)
		}, 0},
		{"read after write", func(s *gpu.Sequence) {
			s.Dispatch(fwd, groups(n), push, a, b)
			s.Dispatch(fwd, groups(n), push, b, c)
		}, 1},
		{"write after read", func(s *gpu.Sequence) {
			s.Dispatch(fwd, groups(n), push, a, b)
			s.Dispatch(fwd, groups(n), push, c, a)
		}, 1},
		{"write after write", func(s *gpu.Sequence) {
			s.Dispatch(fwd, groups(n), push, a, b)
			s.Fill(b, 0)
		}, 1},
	}
	for _, c := range cases {
		s, err := m.NewSequence(gpu.SequenceOptions{})
		require.NoError(t, err)
		c.record(s)
		require.NoError(t, s.Submit(), c.name)
		require.Equal(t, c.barriers, s.Barriers(), c.name)
		s.Close()
	}
}

func TestTimestamps(t *testing.T) {
	m := testgpu.Open(t)
	if !m.HasTimestamps() {
		t.Fatalf("%s has no timestamps on its compute queue", m.Info().Name)
	}
	fwd := kernel(t, m, reluFwdSpec)
	const n = 1 << 16
	a, b := testgpu.Poisoned(t, m, n), testgpu.Poisoned(t, m, n)
	s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
	require.NoError(t, err)
	_, err = s.Timings()
	require.Error(t, err, "timings before any run")
	s.Section("first")
	s.Fill(a, 0)
	// More dispatches than one query pool holds.
	for range 300 {
		s.Dispatch(fwd, groups(n), []uint32{n}, a, b)
	}
	s.Section("last")
	s.Copy(b, a)
	require.NoError(t, s.Submit())
	tim, err := s.Timings()
	require.NoError(t, err)
	require.Len(t, tim, 302)
	require.Equal(t, "first", tim[0].Section)
	require.Equal(t, "fill", tim[0].Kernel)
	require.Equal(t, "relu_fwd", tim[1].Kernel)
	require.Equal(t, "last", tim[301].Section)
	var total float64
	for _, x := range tim {
		require.GreaterOrEqual(t, x.Ns, 0.0)
		total += x.Ns
	}
	require.Positive(t, total)
}

func TestDispatchErrors(t *testing.T) {
	m := testgpu.Open(t)
	fwd := kernel(t, m, reluFwdSpec)
	a, b := testgpu.Poisoned(t, m, 4), testgpu.Poisoned(t, m, 4)
	other := testgpu.Open(t)
	ob := testgpu.Poisoned(t, other, 4)
	cases := map[string]func(s *gpu.Sequence){
		"too few buffers":   func(s *gpu.Sequence) { s.Dispatch(fwd, groups(4), []uint32{4}, a) },
		"wrong push size":   func(s *gpu.Sequence) { s.Dispatch(fwd, groups(4), nil, a, b) },
		"zero groups":       func(s *gpu.Sequence) { s.Dispatch(fwd, gpu.Groups{0, 1, 1}, []uint32{4}, a, b) },
		"slice past end":    func(s *gpu.Sequence) { s.Dispatch(fwd, groups(4), []uint32{4}, a, b.Slice(8, 16)) },
		"foreign buffer":    func(s *gpu.Sequence) { s.Dispatch(fwd, groups(4), []uint32{4}, a, ob) },
		"fill partial word": func(s *gpu.Sequence) { s.Fill(a.Slice(0, 3), 0) },
		"copy size differs": func(s *gpu.Sequence) { s.Copy(a, b.Slice(0, 8)) },
	}
	for name, record := range cases {
		s, err := m.NewSequence(gpu.SequenceOptions{})
		require.NoError(t, err)
		record(s)
		require.Error(t, s.Submit(), name)
		s.Close()
	}
	_, err := m.Kernel(gpu.KernelSpec{Name: "bad", Code: []byte{1, 2, 3, 4}, Access: "r"})
	require.Error(t, err)
	_, err = m.Kernel(gpu.KernelSpec{Name: "bad access", Code: reluFwdSpec.Code, Access: "rx"})
	require.Error(t, err)
}
