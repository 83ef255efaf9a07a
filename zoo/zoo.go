package zoo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vknn/vknn/nn"
)

// Names lists the models ByName knows (any depth 6n+2 for the ResNets and
// plain nets).
var Names = []string{"resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "plain20", "plain32", "plain44", "plain56", "plain110",
	"vgg11", "vgg13", "vgg16", "vgg19", "alexnet"}

// LR is the initial learning rate a model trains with at batch 128 with
// SGD (momentum 0.9): 0.1 for the ResNets and plain nets (He et al.
// 2016); 0.01 for VGG (Simonyan and Zisserman's) and AlexNet. At 0.1 a VGG
// with batch norm diverges in its first steps: its classifier reads
// non-negative features (after ReLU and max pooling), so each step moves
// all logits together; measured on VGG-11, batch 64, the loss reached 16
// by step 3 at 0.1, and fell from 2.46 to 1.7-1.9 in 40 steps at 0.01.
func LR(name string) float64 {
	if strings.HasPrefix(name, "vgg") || name == "alexnet" {
		return 0.01
	}
	return 0.1
}

// Options choose a model's variant.
type Options struct {
	Shortcut byte     // the ResNets' shortcut option, 'A' or 'B'
	Classes  int      // the width of the output
	Input    nn.Shape // the images' shape (zero: CIFAR's 3 x 32 x 32)
}

// ByName builds a model by name: resnet<6n+2> and plain<6n+2> (for any
// input of at least 8 x 8), vgg11, vgg13, vgg16, vgg19 and alexnet (for
// 32 x 32 inputs).
func ByName(name string, o Options) (*nn.Model, error) {
	if o.Input == (nn.Shape{}) {
		o.Input = CIFAR
	}
	for _, kind := range []string{"resnet", "plain"} {
		if rest, ok := strings.CutPrefix(name, kind); ok {
			depth, err := strconv.Atoi(rest)
			if err != nil || depth < 8 || (depth-2)%6 != 0 {
				return nil, fmt.Errorf("zoo: %s: a %s's depth is 6n+2 with n >= 1 (20, 32, 44, 56, 110)", name, kind)
			}
			return ResNet{N: (depth - 2) / 6, Plain: kind == "plain", Shortcut: o.Shortcut, Classes: o.Classes, Input: o.Input}.Build()
		}
	}
	fixed := func() error {
		if o.Input.H != 32 || o.Input.W != 32 {
			return fmt.Errorf("zoo: %s takes 32x32 images, not %dx%d: bring them to 32x32 (train --image-size 32)", name, o.Input.H, o.Input.W)
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "vgg"); ok {
		depth, err := strconv.Atoi(rest)
		if err != nil {
			return nil, fmt.Errorf("zoo: %s: the VGGs are vgg11, vgg13, vgg16 and vgg19", name)
		}
		if err := fixed(); err != nil {
			return nil, err
		}
		return VGG(depth, o.Classes, o.Input.C)
	}
	if name == "alexnet" {
		if err := fixed(); err != nil {
			return nil, err
		}
		return AlexNet(o.Classes, o.Input.C)
	}
	return nil, fmt.Errorf("zoo: no model %q: the models are %s (any depth 6n+2 for resnet and plain)", name, strings.Join(Names, ", "))
}
