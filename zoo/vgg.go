package zoo

import (
	"fmt"
	"strconv"

	"github.com/vknn/vknn/nn"
)

// vggConfigs are Simonyan and Zisserman's configurations A, B, D and E
// (VGG-11, 13, 16, 19): output channels of 3x3 convolutions, 0 for a 2x2
// max pool.
var vggConfigs = map[int][]int{
	11: {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	13: {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	16: {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	19: {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// VGG is VGG-11, 13, 16 or 19 with batch norm in the common CIFAR form
// (kuangliu/pytorch-cifar, bearpaw/pytorch-classification's vgg*_bn):
// "features", a Sequential of 3x3 convolutions with bias, each followed
// by BatchNorm2d and ReLU, and five 2x2 max pools that take 32x32 to 1x1;
// then "classifier", one Linear from 512 to the classes. Tensor names are
// PyTorch's: features.0.weight, features.1.running_var, ...,
// classifier.weight.
func VGG(depth, classes, channels int) (*nn.Model, error) {
	cfg, ok := vggConfigs[depth]
	if !ok {
		return nil, fmt.Errorf("zoo: VGG-%d: the depths are 11, 13, 16 and 19", depth)
	}
	if classes < 2 {
		return nil, fmt.Errorf("zoo: %d classes: need at least 2", classes)
	}
	var features nn.Sequential
	in := channels
	for _, c := range cfg {
		if c == 0 {
			features = append(features, nn.MaxPool2D{Kernel: 2, Stride: 2})
			continue
		}
		features = append(features, nn.Conv2D{In: in, Out: c, Kernel: 3, Pad: 1, Bias: true}, nn.BatchNorm2D{C: c}, nn.ReLU{})
		in = c
	}
	net := nn.Seq(nn.Name("features", features), unnamed(nn.Flatten{}), nn.Name("classifier", nn.Linear{In: 512, Out: classes}))
	m, err := nn.New(fmt.Sprintf("vgg%d", depth), net, nn.Shape{C: channels, H: 32, W: 32})
	if err != nil {
		return nil, err
	}
	m.Meta["classes"] = strconv.Itoa(classes)
	return m, nil
}

// AlexNet is the AlexNet-style CIFAR net of bearpaw/pytorch-classification
// (models/cifar/alexnet.py; 2.47M parameters): five convolutions with bias
// and ReLU (11x11 stride 4, 5x5, then three 3x3; 64, 192, 384, 256, 256
// channels) with 2x2 max pools after the first, second and fifth, taking
// 32x32 to 1x1, then "classifier", a Linear from 256 to the classes.
// Names: features.0.weight, features.3.bias, ..., classifier.weight.
func AlexNet(classes, channels int) (*nn.Model, error) {
	if classes < 2 {
		return nil, fmt.Errorf("zoo: %d classes: need at least 2", classes)
	}
	pool := nn.MaxPool2D{Kernel: 2, Stride: 2}
	features := nn.Seq(
		nn.Conv2D{In: channels, Out: 64, Kernel: 11, Stride: 4, Pad: 5, Bias: true}, nn.ReLU{}, pool,
		nn.Conv2D{In: 64, Out: 192, Kernel: 5, Pad: 2, Bias: true}, nn.ReLU{}, pool,
		nn.Conv2D{In: 192, Out: 384, Kernel: 3, Pad: 1, Bias: true}, nn.ReLU{},
		nn.Conv2D{In: 384, Out: 256, Kernel: 3, Pad: 1, Bias: true}, nn.ReLU{},
		nn.Conv2D{In: 256, Out: 256, Kernel: 3, Pad: 1, Bias: true}, nn.ReLU{}, pool)
	net := nn.Seq(nn.Name("features", features), unnamed(nn.Flatten{}), nn.Name("classifier", nn.Linear{In: 256, Out: classes}))
	m, err := nn.New("alexnet", net, nn.Shape{C: channels, H: 32, W: 32})
	if err != nil {
		return nil, err
	}
	m.Meta["classes"] = strconv.Itoa(classes)
	return m, nil
}
