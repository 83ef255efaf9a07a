package gpu

import (
	"os"
	"runtime"

	"golang.org/x/sys/cpu"
)

// widthVar is the variable through which llvmpipe (lavapipe) reads its
// SIMD width when the driver loads: 128, 256 or 512 bits, and so
// subgroups of 4, 8 or 16.
const widthVar = "LP_NATIVE_VECTOR_WIDTH"

// setVectorWidth sets LP_NATIVE_VECTOR_WIDTH=512 on CPUs with AVX-512
// where the user has not set it, before the Vulkan loader (and with it
// lavapipe) loads: lavapipe's own default there is 256 bits, and a
// ResNet-20 training step ran 1.5x faster at 512 when issue 15 was filed,
// and 2-3% faster (medians, alternated runs) once the kernels read
// through texel buffers (docs/perf.md). It only affects lavapipe (child
// processes inherit it). To keep lavapipe's default, set
// LP_NATIVE_VECTOR_WIDTH=256 yourself. It reports whether it set the
// variable.
func setVectorWidth(hasAVX512 bool, lookup func(string) (string, bool), set func(string, string) error) bool {
	if _, ok := lookup(widthVar); ok || !hasAVX512 {
		return false
	}
	return set(widthVar, "512") == nil
}

// avx512 tells whether this CPU runs AVX-512F with the OS saving its state.
func avx512() bool { return runtime.GOARCH == "amd64" && cpu.X86.HasAVX512F }

// VectorWidthSet tells whether vknn set LP_NATIVE_VECTOR_WIDTH=512 for
// this process (see setVectorWidth). Valid once a device is open.
func VectorWidthSet() bool { return loader.widthSet }

func defaultVectorWidth() bool { return setVectorWidth(avx512(), os.LookupEnv, os.Setenv) }
