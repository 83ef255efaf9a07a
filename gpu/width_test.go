package gpu

import (
	"os"
	"strings"
	"testing"
)

func TestSetVectorWidth(t *testing.T) {
	for _, c := range []struct {
		name   string
		avx512 bool
		env    map[string]string
		want   string // the variable afterwards, "" unset
		did    bool   // set by setVectorWidth
	}{
		{"AVX-512, unset", true, map[string]string{}, "512", true},
		{"AVX-512, the user's 256 kept", true, map[string]string{widthVar: "256"}, "256", false},
		{"AVX-512, set but empty: kept", true, map[string]string{widthVar: ""}, "", false},
		{"no AVX-512", false, map[string]string{}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			set := func(k, v string) error { c.env[k] = v; return nil }
			did := setVectorWidth(c.avx512, lookup, set)
			if got := c.env[widthVar]; got != c.want || did != c.did {
				t.Errorf("variable %q (set by us: %v), want %q (%v)", got, did, c.want, c.did)
			}
		})
	}
}

// TestVectorWidthDefault: where vknn set the width, lavapipe runs with it
// (subgroups of 16).
func TestVectorWidthDefault(t *testing.T) {
	m, err := Open(0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !VectorWidthSet() {
		t.Skipf("not set by vknn here (AVX-512 %v, %s=%q set by the caller)", avx512(), widthVar, os.Getenv(widthVar))
	}
	if os.Getenv(widthVar) != "512" {
		t.Errorf("%s=%q after vknn set it", widthVar, os.Getenv(widthVar))
	}
	if strings.Contains(m.info.Name, "llvmpipe") && (m.info.SubgroupSize != 16 || !strings.Contains(m.info.Name, "512 bits")) {
		t.Errorf("%s: subgroup %d, want 16", m.info.Name, m.info.SubgroupSize)
	}
}
