// Package resnet builds the CIFAR ResNets of He et al. 2016, section 4.2 —
// ResNet-(6n+2) and the plain nets of the same depth — and trains them on
// the GPU through vknn's layers, or on the CPU through their references.
package resnet

import (
	"fmt"
	"math/rand/v2"

	"github.com/vknn/vknn/layers"
)

// Config selects a network.
type Config struct {
	N        int  // blocks per stage: depth 6N+2 (3, 5, 7, 9, 18 for 20, 32, 44, 56, 110)
	Plain    bool // no shortcuts
	Shortcut byte // 'A' (zero-padding identity, the paper's CIFAR choice) or 'B' (1x1 conv + BN)
	Classes  int
}

// Depth is the number of weighted layers, 6N+2.
func (c Config) Depth() int { return 6*c.N + 2 }

// Name is e.g. "resnet20" or "plain20".
func (c Config) Name() string {
	if c.Plain {
		return fmt.Sprintf("plain%d", c.Depth())
	}
	return fmt.Sprintf("resnet%d", c.Depth())
}

// Validate reports an error for a configuration that cannot be built.
func (c Config) Validate() error {
	if c.N < 1 {
		return fmt.Errorf("resnet: %d blocks per stage: need at least 1 (depth 6n+2 >= 8)", c.N)
	}
	if !c.Plain && c.Shortcut != 'A' && c.Shortcut != 'B' {
		return fmt.Errorf("resnet: shortcut %q: want A or B", c.Shortcut)
	}
	if c.Classes < 2 {
		return fmt.Errorf("resnet: %d classes: need at least 2", c.Classes)
	}
	return nil
}

// Tensor is a named parameter or state tensor at an offset (in floats) of
// its model's flat buffer.
type Tensor struct {
	Name   string
	Shape  []int
	Offset int
	Len    int
}

// align keeps every tensor's offset a multiple of 64 floats (256 bytes),
// the largest storage-buffer offset alignment devices ask for.
const align = 64

type registry struct {
	tensors []Tensor
	size    int
}

func (r *registry) add(name string, shape ...int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	r.tensors = append(r.tensors, Tensor{Name: name, Shape: shape, Offset: r.size, Len: n})
	r.size += (n + align - 1) / align * align
	return len(r.tensors) - 1
}

// convRef and bnRef index a model's tensors.
type convRef struct {
	Conv   layers.Conv2D
	Weight int // index in Params
}

type bnRef struct {
	C               int
	Gamma, Beta     int // in Params
	RunMean, RunVar int // in State
}

// Block is a basic block: two 3x3 convs with batch norm and ReLU, and
// (unless the net is plain) a shortcut.
type Block struct {
	In, Out, Stride int
	Conv1, Conv2    convRef
	BN1, BN2        bnRef
	Shortcut        byte // 0 identity, 'A', 'B', or 'P' (plain: none)
	ProjConv        convRef
	ProjBN          bnRef
}

// Model is a network's structure and the layout of its parameters.
type Model struct {
	Cfg    Config
	Params []Tensor // trained by SGD, in one flat buffer
	State  []Tensor // batch-norm running statistics, in another
	NParam int      // floats in the flat parameter buffer (with alignment gaps)
	NState int

	Stem   convRef
	StemBN bnRef
	Blocks []Block
	FCW    int // fc.weight, Classes x 64
	FCB    int // fc.bias
}

// New lays out the network described by cfg. Tensor names follow the
// common PyTorch CIFAR ResNet (conv1, bn1, layer1.0.conv1, ..., fc).
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var p, s registry
	conv := func(name string, c layers.Conv2D) convRef {
		return convRef{c, p.add(name+".weight", c.Out, c.In, c.Kernel, c.Kernel)}
	}
	bn := func(name string, c int) bnRef {
		return bnRef{C: c, Gamma: p.add(name+".weight", c), Beta: p.add(name+".bias", c),
			RunMean: s.add(name+".running_mean", c), RunVar: s.add(name+".running_var", c)}
	}
	m := &Model{Cfg: cfg}
	m.Stem = conv("conv1", layers.Conv2D{In: 3, Out: 16, Kernel: 3, Stride: 1, Pad: 1})
	m.StemBN = bn("bn1", 16)
	in := 16
	for stage, width := range []int{16, 32, 64} {
		for i := 0; i < cfg.N; i++ {
			stride := 1
			if stage > 0 && i == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", stage+1, i)
			b := Block{In: in, Out: width, Stride: stride}
			b.Conv1 = conv(name+".conv1", layers.Conv2D{In: in, Out: width, Kernel: 3, Stride: stride, Pad: 1})
			b.BN1 = bn(name+".bn1", width)
			b.Conv2 = conv(name+".conv2", layers.Conv2D{In: width, Out: width, Kernel: 3, Stride: 1, Pad: 1})
			b.BN2 = bn(name+".bn2", width)
			switch {
			case cfg.Plain:
				b.Shortcut = 'P'
			case stride == 1 && in == width:
				b.Shortcut = 0
			case cfg.Shortcut == 'A':
				b.Shortcut = 'A'
			default:
				b.Shortcut = 'B'
				b.ProjConv = conv(name+".shortcut.0", layers.Conv2D{In: in, Out: width, Kernel: 1, Stride: stride})
				b.ProjBN = bn(name+".shortcut.1", width)
			}
			m.Blocks = append(m.Blocks, b)
			in = width
		}
	}
	m.FCW = p.add("fc.weight", cfg.Classes, 64)
	m.FCB = p.add("fc.bias", cfg.Classes)
	m.Params, m.NParam = p.tensors, p.size
	m.State, m.NState = s.tensors, s.size
	return m, nil
}

// Count is the number of trained parameters (ResNet-20, option A: 269,722).
func (m *Model) Count() int {
	n := 0
	for _, t := range m.Params {
		n += t.Len
	}
	return n
}

// Init returns freshly initialised flat parameter and state buffers:
// He normal convolutions, PyTorch's default for the linear layer, batch
// norm gamma 1, beta 0, running mean 0 and variance 1.
func (m *Model) Init(seed uint64) (params, state []float32) {
	rng := rand.New(rand.NewPCG(seed, 0x7e57))
	params, state = make([]float32, m.NParam), make([]float32, m.NState)
	for _, t := range m.Params {
		v := params[t.Offset:][:t.Len]
		switch {
		case t.Name == "fc.weight":
			layers.LinearDefault(rng, v, params[m.Params[m.FCB].Offset:][:m.Cfg.Classes], 64)
		case t.Name == "fc.bias":
			// set with fc.weight
		case len(t.Shape) == 4:
			layers.HeNormal(rng, v, t.Shape[1]*t.Shape[2]*t.Shape[3])
		case hasSuffix(t.Name, ".weight"): // batch-norm gamma
			for i := range v {
				v[i] = 1
			}
		}
	}
	for _, t := range m.State {
		if hasSuffix(t.Name, "running_var") {
			for i := range state[t.Offset:][:t.Len] {
				state[t.Offset+i] = 1
			}
		}
	}
	return params, state
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }
