package shaders

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSPIRVUpToDate compiles every source as gen.sh does and compares the
// result with the committed SPIR-V. It needs glslc; CI installs it, and
// there (CI=true) a missing glslc fails the test rather than skipping it.
func TestSPIRVUpToDate(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("glslc is not installed (apt-get install glslc)")
		}
		t.Skip("glslc is not installed: cannot check the committed SPIR-V")
	}
	sources, err := filepath.Glob("*.comp")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no shader sources found: %v", err)
	}
	tmp := t.TempDir()
	for _, src := range sources {
		name := strings.TrimSuffix(src, ".comp")
		out := filepath.Join(tmp, name+".spv")
		cmd := exec.Command(glslc, "--target-env=vulkan1.1", "-O", src, "-o", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("glslc %s: %v\n%s", src, err, msg)
			continue
		}
		want, _ := os.ReadFile(out)
		if !bytes.Equal(Code(name), want) {
			t.Errorf("%s.spv is stale: run `go generate ./shaders`", name)
		}
	}
}

// TestEverySourceEmbedded checks that each .comp has its .spv and the
// reverse.
func TestEverySourceEmbedded(t *testing.T) {
	sources, _ := filepath.Glob("*.comp")
	have := map[string]bool{}
	for _, n := range Names() {
		have[n] = true
	}
	for _, src := range sources {
		name := strings.TrimSuffix(src, ".comp")
		if !have[name] {
			t.Errorf("%s has no embedded SPIR-V", src)
		}
		delete(have, name)
	}
	for n := range have {
		t.Errorf("%s.spv has no source", n)
	}
	if Code("no such shader") != nil {
		t.Error("Code of a missing shader is not nil")
	}
}
