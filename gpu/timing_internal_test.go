package gpu

import "testing"

// TestTickDurations: timestamps of 36 and 64 valid bits, with periods of
// real devices (Intel 83.333 ns, AMD 40 ns, lavapipe 1 ns), across a
// counter's wrap-around and with garbage above the valid bits.
func TestTickDurations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ticks  []uint64
		bits   uint32
		period float64
		want   []float64
	}{
		{"lavapipe", []uint64{1000, 1500, 4000}, 64, 1, []float64{500, 2500}},
		{"AMD", []uint64{10, 35, 60}, 64, 40, []float64{1000, 1000}},
		{"Intel, wrapping", []uint64{1<<36 - 6, 4, 16}, 36, 83.333, []float64{10 * 83.333, 12 * 83.333}},
		{"garbage above 36 bits", []uint64{0xdead<<36 | 100, 0xbeef<<36 | 160}, 36, 52.083, []float64{60 * 52.083}},
		{"64 bits, wrapping", []uint64{^uint64(0) - 1, 3}, 64, 1, []float64{5}},
	} {
		got := tickDurations(tc.ticks, tc.bits, tc.period)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v", tc.name, got)
		}
		for i := range got {
			if d := got[i] - tc.want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s: duration %d is %g ns, want %g", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	if got := tickDurations([]uint64{5}, 64, 1); len(got) != 0 {
		t.Errorf("one timestamp gives no duration: %v", got)
	}
}
