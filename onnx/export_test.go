package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/vknn/vknn/nn"
	pb "github.com/vknn/vknn/onnx/onnxpb"
	"github.com/vknn/vknn/perf"
	"github.com/vknn/vknn/zoo"
)

// runScript runs an ONNX model in ONNX Runtime (onnxruntime-node): argv
// package, model, input (raw float32), input dims (JSON), output path.
const runScript = `
const ort = require(process.argv[2]);
const fs = require('fs');
(async () => {
	const sess = await ort.InferenceSession.create(process.argv[3]);
	const buf = fs.readFileSync(process.argv[4]);
	const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
	const out = await sess.run({input: new ort.Tensor('float32', x, JSON.parse(process.argv[5]))});
	const z = out.logits.data;
	fs.writeFileSync(process.argv[6], Buffer.from(z.buffer, z.byteOffset, z.byteLength));
})().catch(e => { console.error(String(e)); process.exit(1); });
`

// onnxRuntime finds node and the onnxruntime-node package: the folder
// $VKNN_ONNXRUNTIME holds node_modules/onnxruntime-node (CI installs it
// with npm install --ignore-scripts onnxruntime-node, whose install script
// only fetches optional extras). Without them the test says why it skips;
// in CI it fails.
func onnxRuntime(t *testing.T) (node, pkg string) {
	t.Helper()
	why := ""
	node, err := exec.LookPath("node")
	if err != nil {
		why = "node is not installed"
	}
	dir := os.Getenv("VKNN_ONNXRUNTIME")
	pkg = filepath.Join(dir, "node_modules", "onnxruntime-node")
	if _, err := os.Stat(filepath.Join(pkg, "package.json")); dir == "" || err != nil {
		why = "no ONNX Runtime: set VKNN_ONNXRUNTIME to a folder where `npm install --ignore-scripts onnxruntime-node` ran"
	}
	if why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return node, pkg
}

// runONNX runs the model file on x (n images of in) in ONNX Runtime and
// returns the logits.
func runONNX(t *testing.T, model string, x []float32, n int, in nn.Shape) []float32 {
	t.Helper()
	node, pkg := onnxRuntime(t)
	dir := t.TempDir()
	script, input, output := filepath.Join(dir, "run.js"), filepath.Join(dir, "x.bin"), filepath.Join(dir, "z.bin")
	require.NoError(t, os.WriteFile(script, []byte(runScript), 0o644))
	raw := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	require.NoError(t, os.WriteFile(input, raw, 0o644))
	dims := fmt.Sprintf("[%d,%d,%d,%d]", n, in.C, in.H, in.W)
	out, err := exec.Command(node, script, pkg, model, input, dims, output).CombinedOutput()
	require.NoError(t, err, "onnxruntime: %s", out)
	b, err := os.ReadFile(output)
	require.NoError(t, err)
	z := make([]float32, len(b)/4)
	for i := range z {
		z[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return z
}

// everyKind uses each layer kind the exporter writes.
func everyKind(t *testing.T) *nn.Model {
	net := nn.Seq(
		nn.Conv2D{In: 3, Out: 6, Kernel: 3, Pad: 1, Bias: true},
		nn.BatchNorm2D{C: 6},
		nn.ReLU{},
		nn.MaxPool2D{Kernel: 3, Stride: 2, Pad: 1},
		nn.Residual{Body: nn.Seq(nn.Name("conv1", nn.Conv2D{In: 6, Out: 8, Kernel: 3, Stride: 2, Pad: 1}), nn.Name("bn1", nn.BatchNorm2D{C: 8})),
			Shortcut: nn.ShortcutA{In: 6, Out: 8, Stride: 2}, ReLU: true},
		nn.Residual{Body: nn.Seq(nn.Name("conv1", nn.Conv2D{In: 8, Out: 10, Kernel: 3, Pad: 1}), nn.Name("bn1", nn.BatchNorm2D{C: 10})),
			Shortcut: nn.ShortcutB(8, 10, 1)},
		nn.AvgPool2D{Kernel: 2, Pad: 1},
		nn.Conv2D{In: 10, Out: 12, Kernel: 5, Pad: 2},
		nn.GlobalAvgPool{},
		nn.Flatten{},
		nn.Dropout{P: 0.5},
		nn.Linear{In: 12, Out: 9},
		nn.BatchNorm2D{C: 9},
		nn.ReLU{},
		nn.Linear{In: 9, Out: 5})
	m, err := nn.New("every", net, nn.Shape{C: 3, H: 11, W: 13})
	require.NoError(t, err)
	return m
}

// state is an initial state with running statistics away from 0 and 1,
// so that batch norm does something in eval mode.
func state(m *nn.Model, seed uint64) *nn.State {
	st := m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.Buffers {
		for i := range p.Of(st.Buffers) {
			if p.Fill == 1 { // a running variance
				p.Of(st.Buffers)[i] = 0.5 + rng.Float32()
			} else {
				p.Of(st.Buffers)[i] = 0.2 * (rng.Float32() - 0.5)
			}
		}
	}
	return st
}

// TestRoundTrip exports models (every layer kind; the zoo's ResNet with
// each shortcut, VGG-11 and AlexNet) with batch norms kept and folded,
// runs them in ONNX Runtime and compares the logits with vknn's CPU
// reference, within 1e-4.
func TestRoundTrip(t *testing.T) {
	models := []*nn.Model{everyKind(t)}
	for _, tc := range []struct {
		name string
		sc   byte
	}{{"resnet8", 'A'}, {"resnet8", 'B'}, {"vgg11", 'A'}, {"alexnet", 'A'}} {
		m, err := zoo.ByName(tc.name, zoo.Options{Shortcut: tc.sc, Classes: 10})
		require.NoError(t, err)
		models = append(models, m)
	}
	for _, m := range models {
		for _, fold := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%d/fold=%v", m.Name, len(m.Params), fold), func(t *testing.T) {
				st := state(m, 3)
				const n = 3
				cpu, err := nn.NewCPU(m, nn.SGD{}, n, nn.Options{})
				require.NoError(t, err)
				require.NoError(t, cpu.SetState(st))
				rng := rand.New(rand.NewPCG(4, 4))
				x := make([]float32, n*m.Input.Len())
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				want, err := cpu.Predict(x)
				require.NoError(t, err)
				path := filepath.Join(t.TempDir(), "m.onnx")
				require.NoError(t, Write(path, m, st, Options{Fold: fold, Norm: "mean 0.5,0.5,0.5 std 0.25,0.25,0.25", Classes: []string{"a"}}))
				got := runONNX(t, path, x, n, m.Input)
				e := perf.RelErr(got, want)
				t.Logf("logits: relative error %.2g", e)
				require.Less(t, e, 1e-4)
			})
		}
	}
}

// TestExportGraph checks the graph's structure without a runtime: its
// input, output and metadata, and that folding removes the batch norms
// that follow convolutions.
func TestExportGraph(t *testing.T) {
	m, err := zoo.ByName("resnet8", zoo.Options{Shortcut: 'A', Classes: 10})
	require.NoError(t, err)
	count := func(g *pb.GraphProto, op string) int {
		n := 0
		for _, nd := range g.Node {
			if nd.OpType == op {
				n++
			}
		}
		return n
	}
	kept, err := Export(m, m.Init(1), Options{Norm: "mean 1,2,3 std 1,1,1"})
	require.NoError(t, err)
	require.Equal(t, "input", kept.Graph.Input[0].Name)
	require.Equal(t, "logits", kept.Graph.Output[0].Name)
	require.Equal(t, 7, count(kept.Graph, "BatchNormalization"))
	require.Equal(t, 2, count(kept.Graph, "Pad"), "option A shortcuts")
	folded, err := Export(m, m.Init(1), Options{Fold: true})
	require.NoError(t, err)
	require.Zero(t, count(folded.Graph, "BatchNormalization"))
	b, err := proto.Marshal(kept)
	require.NoError(t, err)
	var back pb.ModelProto
	require.NoError(t, proto.Unmarshal(b, &back))
	require.True(t, proto.Equal(kept, &back))
	require.Equal(t, "normalization", back.MetadataProps[1].Key)
}
