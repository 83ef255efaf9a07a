// Package zoo defines well-known networks on the nn API: the CIFAR
// ResNets and plain nets of He et al. 2016 (section 4.2), VGG-11/13/16/19
// with batch norm for 32x32 inputs, and an AlexNet-style CIFAR net. Tensor
// names are the state_dict keys of the PyTorch modules they mirror: VGG
// as kuangliu/pytorch-cifar's (features.*, classifier.*), AlexNet as
// bearpaw/pytorch-classification's models/cifar/alexnet.py, the ResNets
// as akamaster/pytorch_resnet_cifar10's (conv1, bn1, layer1.0.conv1, ...,
// layer2.0.shortcut.0 for option B) with its final "linear" named "fc".
package zoo

import (
	"fmt"
	"strconv"

	"github.com/vknn/vknn/nn"
)

// CIFAR is the input of every model here: 3 x 32 x 32.
var CIFAR = nn.Shape{C: 3, H: 32, W: 32}

// ResNet selects a CIFAR ResNet or plain net.
type ResNet struct {
	N        int  // blocks per stage: depth 6N+2 (3, 5, 7, 9, 18 for 20, 32, 44, 56, 110)
	Plain    bool // no shortcuts
	Shortcut byte // 'A' (zero-padding identity, the paper's CIFAR choice) or 'B' (1x1 conv + BN)
	Classes  int
	Input    nn.Shape // zero: CIFAR's 3 x 32 x 32
}

// Depth is the number of weighted layers, 6N+2.
func (c ResNet) Depth() int { return 6*c.N + 2 }

// Name is e.g. "resnet20" or "plain20".
func (c ResNet) Name() string {
	if c.Plain {
		return fmt.Sprintf("plain%d", c.Depth())
	}
	return fmt.Sprintf("resnet%d", c.Depth())
}

// Validate reports an error for a configuration that cannot be built.
func (c ResNet) Validate() error {
	if c.N < 1 {
		return fmt.Errorf("zoo: %d blocks per stage: need at least 1 (depth 6n+2 >= 8)", c.N)
	}
	if !c.Plain && c.Shortcut != 'A' && c.Shortcut != 'B' {
		return fmt.Errorf("zoo: shortcut %q: want A or B", c.Shortcut)
	}
	if c.Classes < 2 {
		return fmt.Errorf("zoo: %d classes: need at least 2", c.Classes)
	}
	return nil
}

// unnamed puts a parameterless module in its Sequential's namespace
// (PyTorch's functional F.relu).
func unnamed(m nn.Module) nn.Named { return nn.Name("", m) }

// Build is the network: conv1, bn1, ReLU, layer1..3 of N basic blocks
// (16, 32, 64 channels; the first block of layers 2 and 3 strides 2),
// global average pooling and fc, with the names of the common PyTorch
// CIFAR ResNet (conv1.weight, layer2.0.bn1.running_mean, fc.bias, ...).
func (c ResNet) Build() (*nn.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	in := c.Input
	if in == (nn.Shape{}) {
		in = CIFAR
	}
	net := nn.Seq(
		nn.Name("conv1", nn.Conv2D{In: in.C, Out: 16, Kernel: 3, Pad: 1}),
		nn.Name("bn1", nn.BatchNorm2D{C: 16}),
		unnamed(nn.ReLU{}))
	ch := 16
	for stage, width := range []int{16, 32, 64} {
		var blocks nn.Sequential
		for i := range c.N {
			stride := 1
			if stage > 0 && i == 0 {
				stride = 2
			}
			blocks = append(blocks, c.block(ch, width, stride))
			ch = width
		}
		net = append(net, nn.Name(fmt.Sprintf("layer%d", stage+1), blocks))
	}
	net = append(net, unnamed(nn.GlobalAvgPool{}), unnamed(nn.Flatten{}), nn.Name("fc", nn.Linear{In: 64, Out: c.Classes}))
	m, err := nn.New(c.Name(), net, in)
	if err != nil {
		return nil, err
	}
	m.Meta["depth"] = strconv.Itoa(c.Depth())
	m.Meta["plain"] = strconv.FormatBool(c.Plain)
	m.Meta["classes"] = strconv.Itoa(c.Classes)
	if !c.Plain {
		m.Meta["shortcut"] = string(rune(c.Shortcut))
	}
	return m, nil
}

// block is a basic block: two 3x3 convolutions with batch norm and ReLU,
// and (unless the net is plain) a shortcut added before the last ReLU.
func (c ResNet) block(in, out, stride int) nn.Module {
	body := nn.Seq(
		nn.Name("conv1", nn.Conv2D{In: in, Out: out, Kernel: 3, Stride: stride, Pad: 1}),
		nn.Name("bn1", nn.BatchNorm2D{C: out}),
		unnamed(nn.ReLU{}),
		nn.Name("conv2", nn.Conv2D{In: out, Out: out, Kernel: 3, Pad: 1}),
		nn.Name("bn2", nn.BatchNorm2D{C: out}))
	if c.Plain {
		return append(body, unnamed(nn.ReLU{}))
	}
	var shortcut nn.Module
	switch {
	case stride == 1 && in == out:
	case c.Shortcut == 'A':
		shortcut = nn.ShortcutA{In: in, Out: out, Stride: stride}
	default:
		shortcut = nn.ShortcutB(in, out, stride)
	}
	return nn.Residual{Body: body, Shortcut: shortcut, ReLU: true}
}
