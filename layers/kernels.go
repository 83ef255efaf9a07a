package layers

import (
	"fmt"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/shaders"
)

// kernel builds (or fetches from m's cache) the shader name with the given
// binding access letters, push-constant words and specialization constants.
func kernel(m *gpu.Manager, name, access string, pushWords int, spec ...uint32) (*gpu.Kernel, error) {
	k, err := m.Kernel(gpu.KernelSpec{Name: name, Code: shaders.Code(name), Access: access,
		PushBytes: uint32(4 * pushWords), Spec: spec})
	if err != nil {
		return nil, fmt.Errorf("layers: %w", err)
	}
	return k, nil
}

// kernels builds several kernels, stopping at the first error.
type kernels struct {
	m   *gpu.Manager
	err error
}

func (ks *kernels) get(name, access string, pushWords int, spec ...uint32) *gpu.Kernel {
	if ks.err != nil {
		return nil
	}
	k, err := kernel(ks.m, name, access, pushWords, spec...)
	ks.err = err
	return k
}

// u32 converts ints to push-constant words.
func u32(xs ...int) []uint32 {
	out := make([]uint32, len(xs))
	for i, x := range xs {
		out[i] = uint32(x)
	}
	return out
}

// flat is the one-dimensional workgroup count for n items, local per group.
func flat(n, local int) gpu.Groups {
	g := (n + local - 1) / local
	return gpu.Groups{uint32(max(g, 1)), 1, 1}
}
