// Package onnx exports a trained model as an ONNX graph in eval mode
// (opset 13): the input "input" (batch x C x H x W, the batch dynamic,
// images normalised as in training) to the logits "logits" (batch x
// classes). Batch norms are kept as BatchNormalization with their running
// statistics, or folded into the convolution before them; dropout is the
// identity. The protobuf messages are generated from the official
// onnx.proto (package onnxpb) with google.golang.org/protobuf.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/vknn/vknn/nn"
	pb "github.com/vknn/vknn/onnx/onnxpb"
)

// Opset is the ONNX operator set version the graph uses; IRVersion the IR
// version of the model file.
const (
	Opset     = 13
	IRVersion = 8
)

// Options configure Export.
type Options struct {
	// Fold folds each batch norm that follows a convolution (and is its
	// only reader) into the convolution's weights and bias.
	Fold bool
	// Norm is written into the model's metadata (e.g. "mean ... std ..."),
	// with Classes, for whoever prepares the input.
	Norm    string
	Classes []string
}

// Export builds the ONNX model of m with the parameters and buffers of
// st.
func Export(m *nn.Model, st *nn.State, o Options) (*pb.ModelProto, error) {
	e := &exporter{m: m, st: st, o: o, graph: &pb.GraphProto{Name: m.Name}, names: map[nn.Value]string{0: "input"}}
	if err := e.layers(); err != nil {
		return nil, err
	}
	in, out := m.Input, m.ValueShape(m.Output())
	e.graph.Input = []*pb.ValueInfoProto{tensorInfo("input", "batch", in.C, in.H, in.W)}
	e.graph.Output = []*pb.ValueInfoProto{tensorInfo("logits", "batch", out.C)}
	model := &pb.ModelProto{
		IrVersion:     IRVersion,
		ProducerName:  "vknn",
		ModelVersion:  1,
		Graph:         e.graph,
		OpsetImport:   []*pb.OperatorSetIdProto{{Domain: "", Version: Opset}},
		MetadataProps: []*pb.StringStringEntryProto{{Key: "arch", Value: m.Name}},
	}
	if o.Norm != "" {
		model.MetadataProps = append(model.MetadataProps, &pb.StringStringEntryProto{Key: "normalization", Value: o.Norm})
	}
	for i, c := range o.Classes {
		model.MetadataProps = append(model.MetadataProps, &pb.StringStringEntryProto{Key: fmt.Sprintf("class_%d", i), Value: c})
	}
	return model, nil
}

// Write exports m to the file path.
func Write(path string, m *nn.Model, st *nn.State, o Options) error {
	model, err := Export(m, st, o)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(model)
	if err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

type exporter struct {
	m     *nn.Model
	st    *nn.State
	o     Options
	graph *pb.GraphProto
	names map[nn.Value]string
	n     int
}

// name is the ONNX name of a value: "input", "logits" or "v<k>".
func (e *exporter) name(v nn.Value) string {
	if s, ok := e.names[v]; ok {
		return s
	}
	s := fmt.Sprintf("v%d", v)
	if v == e.m.Output() {
		s = "logits"
	}
	e.names[v] = s
	return s
}

func (e *exporter) node(op string, in []string, out string, attrs ...*pb.AttributeProto) {
	e.n++
	e.graph.Node = append(e.graph.Node, &pb.NodeProto{OpType: op, Name: fmt.Sprintf("%s_%d", op, e.n), Input: in, Output: []string{out}, Attribute: attrs})
}

// init adds a float initializer.
func (e *exporter) init(name string, shape []int, values []float32) string {
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	raw := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	e.graph.Initializer = append(e.graph.Initializer, &pb.TensorProto{Name: name, Dims: dims,
		DataType: int32(pb.TensorProto_FLOAT), RawData: raw})
	return name
}

// ints adds an int64 initializer.
func (e *exporter) ints(name string, values ...int64) string {
	raw := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	e.graph.Initializer = append(e.graph.Initializer, &pb.TensorProto{Name: name, Dims: []int64{int64(len(values))},
		DataType: int32(pb.TensorProto_INT64), RawData: raw})
	return name
}

func (e *exporter) param(p *nn.Param) []float32 {
	for _, q := range e.m.Params {
		if q == p {
			return p.Of(e.st.Params)
		}
	}
	return p.Of(e.st.Buffers)
}

func (e *exporter) tensor(p *nn.Param) string { return e.init(p.Name, p.Shape, e.param(p)) }

func intsAttr(name string, v ...int) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INTS}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func intAttr(name string, v int) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INT, I: int64(v)}
}

func floatAttr(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_FLOAT, F: v}
}

// layers writes every layer as ONNX nodes.
func (e *exporter) layers() error {
	ls := e.m.Layers()
	readers := map[nn.Value]int{}
	for _, l := range ls {
		for _, v := range l.In {
			readers[v]++
		}
	}
	folded := map[int]bool{} // batch norms folded into the convolution before them
	for i, l := range ls {
		if folded[i] {
			continue
		}
		in := make([]string, len(l.In))
		for k, v := range l.In {
			in[k] = e.name(v)
		}
		out := e.name(l.Out)
		switch l.Kind {
		case "Conv2D":
			w, b := e.param(l.Tensors[0]), []float32(nil)
			if l.Conv.Bias {
				b = e.param(l.Tensors[1])
			}
			if e.o.Fold && i+1 < len(ls) && ls[i+1].Kind == "BatchNorm2D" && ls[i+1].In[0] == l.Out && readers[l.Out] == 1 {
				w, b = fold(l, ls[i+1], w, b, e.param)
				folded[i+1] = true
				out = e.name(ls[i+1].Out)
			}
			c := l.Conv
			inputs := append(in, e.init(l.Tensors[0].Name, l.Tensors[0].Shape, w))
			if b != nil {
				inputs = append(inputs, e.init(l.Name+".bias", []int{c.Out}, b))
			}
			e.node("Conv", inputs, out, intsAttr("kernel_shape", c.Kernel, c.Kernel), intsAttr("strides", c.Stride, c.Stride),
				intsAttr("pads", c.Pad, c.Pad, c.Pad, c.Pad), intsAttr("dilations", 1, 1), intAttr("group", 1))
		case "BatchNorm2D":
			names := make([]string, 4)
			for k, p := range l.Tensors {
				names[k] = e.tensor(p)
			}
			e.node("BatchNormalization", append(in, names...), out, floatAttr("epsilon", float32(l.BN.Eps)),
				floatAttr("momentum", float32(1-l.BN.Momentum)))
		case "ReLU":
			e.node("Relu", in, out)
		case "MaxPool2D", "AvgPool2D":
			p := l.Pool
			attrs := []*pb.AttributeProto{intsAttr("kernel_shape", p.Kernel, p.Kernel), intsAttr("strides", p.Stride, p.Stride),
				intsAttr("pads", p.Pad, p.Pad, p.Pad, p.Pad)}
			op := "MaxPool"
			if !p.Max {
				op = "AveragePool"
				attrs = append(attrs, intAttr("count_include_pad", 1))
			}
			e.node(op, in, out, attrs...)
		case "GlobalAvgPool":
			e.node("GlobalAveragePool", in, out)
		case "Flatten":
			e.node("Flatten", in, out, intAttr("axis", 1))
		case "Linear":
			e.node("Gemm", append(in, e.tensor(l.Tensors[0]), e.tensor(l.Tensors[1])), out, intAttr("transB", 1))
		case "Dropout":
			e.node("Identity", in, out) // eval mode
		case "Add":
			e.node("Add", in, out)
		case "ShortcutA":
			e.shortcutA(l, in[0], out)
		default:
			return fmt.Errorf("onnx: %s (%s) has no ONNX form", l.Name, l.Kind)
		}
	}
	return nil
}

// shortcutA is option A: every Stride-th row and column, then zero
// channels, (Out-In)/2 before and the rest after.
func (e *exporter) shortcutA(l nn.Layer, in, out string) {
	a := l.Shortcut
	sh := e.m.ValueShape(l.In[0])
	k := e.n + 1
	sub := fmt.Sprintf("%s_sub%d", in, k)
	e.node("Slice", []string{in, e.ints(fmt.Sprintf("sliceStarts%d", k), 0, 0), e.ints(fmt.Sprintf("sliceEnds%d", k), int64(sh.H), int64(sh.W)),
		e.ints(fmt.Sprintf("sliceAxes%d", k), 2, 3), e.ints(fmt.Sprintf("sliceSteps%d", k), int64(a.Stride), int64(a.Stride))}, sub)
	lo := int64((a.Out - a.In) / 2)
	hi := int64(a.Out-a.In) - lo
	e.node("Pad", []string{sub, e.ints(fmt.Sprintf("pads%d", k), 0, lo, 0, 0, 0, hi, 0, 0)}, out, &pb.AttributeProto{Name: "mode", Type: pb.AttributeProto_STRING, S: []byte("constant")})
}

// fold returns a convolution's weights and bias with the batch norm after
// it folded in: w' = w * g/s, b' = (b - mean) * g/s + beta, with s =
// sqrt(var + eps).
func fold(conv, bn nn.Layer, w, b []float32, get func(*nn.Param) []float32) ([]float32, []float32) {
	gamma, beta, mean, vari := get(bn.Tensors[0]), get(bn.Tensors[1]), get(bn.Tensors[2]), get(bn.Tensors[3])
	out := conv.Conv.Out
	per := len(w) / out
	nw, nb := make([]float32, len(w)), make([]float32, out)
	for k := range out {
		scale := float64(gamma[k]) / math.Sqrt(float64(vari[k])+bn.BN.Eps)
		for j := range per {
			nw[k*per+j] = float32(float64(w[k*per+j]) * scale)
		}
		bias := 0.0
		if b != nil {
			bias = float64(b[k])
		}
		nb[k] = float32((bias-float64(mean[k]))*scale + float64(beta[k]))
	}
	return nw, nb
}

// tensorInfo describes a float tensor of dims; a string dim is symbolic.
func tensorInfo(name string, dims ...any) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case string:
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: v}})
		case int:
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
		}
	}
	return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: int32(pb.TensorProto_FLOAT), Shape: shape}}}}
}
