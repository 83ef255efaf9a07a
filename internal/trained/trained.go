// Package trained gives tests a small trained model: ResNet-8 trained on
// the GPU on a generated CIFAR-shaped set until it fits it, saved as a
// checkpoint with the metadata train writes.
package trained

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/internal/testgpu"
	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/zoo"
)

// Model trains ResNet-8 for steps steps on the first len-val images of
// set and returns the checkpoint's path, the normalisation and the
// validation accuracy the trainer measures on the last val images.
func Model(t *testing.T, set *data.Set, val, steps int) (string, data.Norm, float64) {
	t.Helper()
	m, err := zoo.ByName("resnet8", zoo.Options{Shortcut: 'A', Classes: len(set.Classes)})
	require.NoError(t, err)
	train, held, err := data.Split(set, val)
	require.NoError(t, err)
	norm := data.Stats(train)
	opt := nn.SGD{Momentum: 0.9, WD: 1e-4}
	e, err := nn.NewGPU(testgpu.Open(t), m, opt, 16, nn.Options{Seed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	require.NoError(t, e.SetState(m.Init(1)))
	l := &data.Loader{Set: train, Norm: norm, Aug: data.Augment{}, Batch: 16, Seed: 1}
	for s := range steps {
		b := l.Get(s)
		_, _, err := e.Step(b.Images, b.Labels, 0.05)
		require.NoError(t, err)
	}
	x, y := data.Normalized(held, norm)
	_, correct, err := e.Eval(x, y)
	require.NoError(t, err)
	st, err := e.State()
	require.NoError(t, err)
	meta := infer.Describe(norm, set.Classes, m.Input)
	meta["val"] = "0"
	f, err := m.Checkpoint(st, opt, meta)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "best.safetensors")
	require.NoError(t, checkpoint.Save(path, f))
	return path, norm, float64(correct) / float64(max(len(y), 1))
}

// Set is a generated CIFAR-shaped set of n images (cifar.Synthetic).
func Set(n int, seed uint64) *data.Set { return cifar.Synthetic(n, seed) }
