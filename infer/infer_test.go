package infer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/nn"
)

func TestMetaRoundTrip(t *testing.T) {
	norm := data.Norm{Mean: []float32{0.25}, Std: []float32{0.5}}
	md := Describe(norm, []string{"cat", "dog", "bird"}, nn.Shape{C: 1, H: 28, W: 20})
	md["arch"], md["shortcut"] = "resnet8", "B"
	m, err := ReadMeta(&checkpoint.File{Metadata: md})
	require.NoError(t, err)
	require.Equal(t, Meta{Arch: "resnet8", Shortcut: 'B', Classes: []string{"cat", "dog", "bird"}, Input: nn.Shape{C: 1, H: 28, W: 20}, Norm: norm}, m)
}

// TestOldCheckpoint: checkpoints written before the metadata existed are
// CIFAR's, with no normalisation.
func TestOldCheckpoint(t *testing.T) {
	m, err := ReadMeta(&checkpoint.File{Metadata: map[string]string{"arch": "resnet20"}})
	require.NoError(t, err)
	require.Equal(t, byte('A'), m.Shortcut)
	require.Equal(t, nn.Shape{C: 3, H: 32, W: 32}, m.Input)
	require.Len(t, m.Classes, 10)
	require.Equal(t, "airplane", m.Classes[0])
	require.Nil(t, m.Norm.Mean)
	m, err = ReadMeta(&checkpoint.File{Metadata: map[string]string{"arch": "resnet20", "classes": "100"}})
	require.NoError(t, err)
	require.Len(t, m.Classes, 100)
}

func TestBadMeta(t *testing.T) {
	for name, md := range map[string]map[string]string{
		"no arch":     {},
		"shape":       {"arch": "resnet8", "input_shape": "3 by 32"},
		"class names": {"arch": "resnet8", "class_names": "[cat"},
		"classes":     {"arch": "resnet8", "classes": "-3"},
		"norm":        {"arch": "resnet8", "normalization": "mean 1"},
		"norm width":  {"arch": "resnet8", "normalization": data.Norm{Mean: []float32{0}, Std: []float32{1}}.String()},
	} {
		_, err := ReadMeta(&checkpoint.File{Metadata: md})
		require.Error(t, err, name)
	}
}

// TestCrossEntropy: a confident wrong answer costs its margin, not +Inf.
func TestCrossEntropy(t *testing.T) {
	require.InDelta(t, math.Log(2), crossEntropy([]float32{3, 3}, 0), 1e-12)
	require.InDelta(t, 2000, crossEntropy([]float32{1000, -1000}, 1), 1e-9)
	p := softmax([]float32{1, 2, 3})
	require.InDelta(t, -math.Log(p[0]), crossEntropy([]float32{1, 2, 3}, 0), 1e-12)
}
