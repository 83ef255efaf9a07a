package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/infer"
	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/onnx/onnxpb"
	"github.com/vknn/vknn/zoo"
)

// TestExport: the command writes a graph with the checkpoint's input shape,
// classes and normalisation (the numbers are checked against a runtime in
// package onnx), and refuses what it cannot export.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	m, err := zoo.ByName("resnet8", zoo.Options{Shortcut: 'A', Classes: 4, Input: nn.Shape{C: 3, H: 24, W: 24}})
	require.NoError(t, err)
	norm := data.Norm{Mean: []float32{0.5, 0.4, 0.3}, Std: []float32{0.2, 0.25, 0.3}}
	f, err := m.Checkpoint(m.Init(1), nil, infer.Describe(norm, []string{"a", "b", "c", "d"}, m.Input))
	require.NoError(t, err)
	ckpt := filepath.Join(dir, "best.safetensors")
	require.NoError(t, checkpoint.Save(ckpt, f))

	for _, fold := range []bool{false, true} {
		out := filepath.Join(dir, "m.onnx")
		args := []string{"--checkpoint", ckpt, "--onnx", out}
		if fold {
			args = append(args, "--fold")
		}
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(args, &stdout, &stderr), stderr.String())
		require.Contains(t, stdout.String(), "resnet8")
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		var mp onnxpb.ModelProto
		require.NoError(t, proto.Unmarshal(b, &mp))
		in := mp.Graph.Input[0].Type.GetTensorType().Shape.Dim
		require.Equal(t, []int64{3, 24, 24}, []int64{in[1].GetDimValue(), in[2].GetDimValue(), in[3].GetDimValue()})
		require.Equal(t, int64(4), mp.Graph.Output[0].Type.GetTensorType().Shape.Dim[1].GetDimValue())
		bn := 0
		for _, n := range mp.Graph.Node {
			if n.OpType == "BatchNormalization" {
				bn++
			}
		}
		require.Equal(t, fold, bn == 0, "batch norms left: %d", bn)
		props := map[string]string{}
		for _, p := range mp.MetadataProps {
			props[p.Key] = p.Value
		}
		require.Equal(t, norm.String(), props["normalization"])
	}

	var stdout, stderr bytes.Buffer
	require.ErrorContains(t, run([]string{"--onnx", "x.onnx"}, &stdout, &stderr), "--checkpoint")
	require.Error(t, run([]string{"--checkpoint", filepath.Join(dir, "missing"), "--onnx", "x.onnx"}, &stdout, &stderr))
	require.Error(t, run([]string{"--checkpoint", ckpt, "--onnx", filepath.Join(dir, "no", "such", "m.onnx")}, &stdout, &stderr))
}
