package gpu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/shaders"
)

// TestBindingAccess reads every shader's bindings from its SPIR-V; the
// kernels' access strings are held to them when a kernel is built.
func TestBindingAccess(t *testing.T) {
	for name, want := range map[string]string{
		"sgd": "brbr", "adamw": "brbbr", "bn_stats": "rwwbbt", "conv_v3": "rrrwt", "shortcut_a_bwd": "rb", "fill": "w",
		"conv_wino": "rtrwt", "peak_copy_texel": "tw", "bn_bwd_apply": "rrrrrrrrwwttt",
	} {
		got, err := gpu.BindingAccess(shaders.Code(name))
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
	for _, name := range shaders.Names() {
		_, err := gpu.BindingAccess(shaders.Code(name))
		require.NoError(t, err, name)
	}
	_, err := gpu.BindingAccess([]byte("not spir-v at all"))
	require.ErrorContains(t, err, "not SPIR-V")
}

// TestAccessChecked: a kernel whose access string says a binding is only
// read when the shader writes it is refused (the synchronization
// validation layer does not catch such a string: the barriers it causes
// to be left out are, to the layer, the program's intent).
func TestAccessChecked(t *testing.T) {
	m := testgpu.Open(t)
	_, err := m.Kernel(gpu.KernelSpec{Name: "relu_fwd", Code: shaders.Code("relu_fwd"), Access: "rr", PushBytes: 4, Spec: []uint32{64}})
	require.ErrorContains(t, err, `access "rr", but the shader's bindings are "rw"`)
	k, err := m.Kernel(gpu.KernelSpec{Name: "relu_fwd", Code: shaders.Code("relu_fwd"), PushBytes: 4, Spec: []uint32{64}})
	require.NoError(t, err, "an empty access string is read from the shader")
	require.NotNil(t, k)
}
