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

// ByName builds a model by name: resnet<6n+2> and plain<6n+2> (with
// shortcut option 'A' or 'B' for the ResNets), vgg11, vgg13, vgg16, vgg19,
// alexnet; for classes classes.
func ByName(name string, shortcut byte, classes int) (*nn.Model, error) {
	for _, kind := range []string{"resnet", "plain"} {
		if rest, ok := strings.CutPrefix(name, kind); ok {
			depth, err := strconv.Atoi(rest)
			if err != nil || depth < 8 || (depth-2)%6 != 0 {
				return nil, fmt.Errorf("zoo: %s: a %s's depth is 6n+2 with n >= 1 (20, 32, 44, 56, 110)", name, kind)
			}
			return ResNet{N: (depth - 2) / 6, Plain: kind == "plain", Shortcut: shortcut, Classes: classes}.Build()
		}
	}
	if rest, ok := strings.CutPrefix(name, "vgg"); ok {
		depth, err := strconv.Atoi(rest)
		if err != nil {
			return nil, fmt.Errorf("zoo: %s: the VGGs are vgg11, vgg13, vgg16 and vgg19", name)
		}
		return VGG(depth, classes)
	}
	if name == "alexnet" {
		return AlexNet(classes)
	}
	return nil, fmt.Errorf("zoo: no model %q: the models are %s (any depth 6n+2 for resnet and plain)", name, strings.Join(Names, ", "))
}
