package resnet

import "testing"

func TestParameterCounts(t *testing.T) {
	// He et al. 2016, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M with option
	// A; option B adds two 1x1 projections with their batch norms (2,752).
	want := map[int]int{3: 269722, 5: 464154, 7: 658586, 9: 853018, 18: 1727962}
	for n, count := range want {
		for _, sc := range []byte{'A', 'B'} {
			m, err := New(Config{N: n, Shortcut: sc, Classes: 10})
			if err != nil {
				t.Fatal(err)
			}
			if sc == 'B' {
				count += 2752
			}
			if got := m.Count(); got != count {
				t.Errorf("resnet%d-%c: %d parameters, want %d", 6*n+2, sc, got, count)
			}
		}
	}
	plain, _ := New(Config{N: 3, Plain: true, Classes: 10})
	if got := plain.Count(); got != 269722 {
		t.Errorf("plain20: %d parameters, want 269722", got)
	}
	if _, err := New(Config{N: 0, Shortcut: 'A', Classes: 10}); err == nil {
		t.Error("n=0 accepted")
	}
	if _, err := New(Config{N: 3, Shortcut: 'C', Classes: 10}); err == nil {
		t.Error("shortcut C accepted")
	}
}
