package gpu

import (
	"testing"
)

// TestSequenceStartsWithBarrier: every sequence starts with a barrier, so
// that it reads what earlier submissions wrote (a fence makes their writes
// available, not visible), and ends with one to the host. (lavapipe runs
// submissions in order over coherent caches, and the synchronization
// validation layer here, 1.3.239, checks no hazards across submissions:
// neither notices the first barrier missing; the recording shows it.)
func TestSequenceStartsWithBarrier(t *testing.T) {
	m, err := Open(0, Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := m.NewBuffer(256)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSequence(SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Fill(a, 0)
	s.Fill(a, 1)
	if err := s.Submit(); err != nil {
		t.Fatal(err)
	}
	want := []string{"barrier", "fill", "barrier", "fill", "host barrier"}
	if len(s.recorded) != len(want) {
		t.Fatalf("recorded %q, want %q", s.recorded, want)
	}
	for i := range want {
		if s.recorded[i] != want[i] {
			t.Fatalf("recorded %q, want %q", s.recorded, want)
		}
	}
	if s.Barriers() != 1 {
		t.Errorf("Barriers() = %d, want 1 (the one between the fills)", s.Barriers())
	}
}
