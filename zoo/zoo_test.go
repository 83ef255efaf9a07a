package zoo

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/nn"
)

// TestParameterCounts holds each model to a published count: He et al.
// 2016, Table 6 for the ResNets (0.27M, 0.46M, 0.66M, 0.85M, 1.7M with
// option A; option B adds two 1x1 projections with their batch norms,
// 2,752); bearpaw/pytorch-classification's table for alexnet (2.47M) and
// vgg19_bn (20.04M); 14,728,266 for kuangliu's VGG16 (torchsummary, as
// listed in Classification-cifar10-pytorch's README); 9.2M for VGG-11
// (xyfJASON/image-backbones-pytorch's table). VGG-13's 9,416,010 has no
// published figure found; it is VGG-11's plus one 64 and one 128-channel
// convolution with their batch norms (36,928 + 128 + 147,584 + 256).
func TestParameterCounts(t *testing.T) {
	want := map[int]int{3: 269722, 5: 464154, 7: 658586, 9: 853018, 18: 1727962}
	for n, count := range want {
		for _, sc := range []byte{'A', 'B'} {
			m, err := ResNet{N: n, Shortcut: sc, Classes: 10}.Build()
			require.NoError(t, err)
			if sc == 'B' {
				count += 2752
			}
			require.Equal(t, count, m.Count(), "resnet%d-%c", 6*n+2, sc)
		}
	}
	for name, count := range map[string]int{"plain20": 269722, "plain110": 1727962, "alexnet": 2472266,
		"vgg11": 9231114, "vgg13": 9416010, "vgg16": 14728266, "vgg19": 20040522} {
		m, err := ByName(name, Options{Shortcut: 'A', Classes: 10})
		require.NoError(t, err)
		require.Equal(t, count, m.Count(), name)
	}
	m, err := ByName("resnet20", Options{Shortcut: 'A', Classes: 10})
	require.NoError(t, err)
	require.InDelta(t, 81.1e6, m.FLOPs(), 0.1e6, "ResNet-20 forward FLOPs (direct count)")
}

func TestByNameErrors(t *testing.T) {
	for name, msg := range map[string]string{
		"resnet21": "6n+2", "plain2": "6n+2", "resnetx": "6n+2", "vgg12": "11, 13, 16 and 19",
		"vggx": "vgg11", "lenet": "no model", "": "no model",
	} {
		_, err := ByName(name, Options{Shortcut: 'A', Classes: 10})
		require.ErrorContains(t, err, msg, name)
	}
	_, err := ByName("resnet20", Options{Shortcut: 'C', Classes: 10})
	require.ErrorContains(t, err, "shortcut")
	_, err = ByName("alexnet", Options{Shortcut: 'A', Classes: 1})
	require.ErrorContains(t, err, "classes")
}

// pytorchKeys are the state_dict keys and shapes of the PyTorch modules
// the models mirror (num_batches_tracked aside: PyTorch fills it in when
// a state dict without it is loaded): VGG-11 with batch norm and AlexNet
// as bearpaw/pytorch-classification's models/cifar (its VGG from
// kuangliu/pytorch-cifar), ResNet-20 as the common CIFAR ResNet
// (akamaster/pytorch_resnet_cifar10, with fc for its linear).
func pytorchKeys(name string) []string {
	var keys []string
	conv := func(prefix string, out, in, k int, bias bool) {
		keys = append(keys, fmt.Sprintf("%s.weight %v", prefix, []int{out, in, k, k}))
		if bias {
			keys = append(keys, fmt.Sprintf("%s.bias %v", prefix, []int{out}))
		}
	}
	bn := func(prefix string, c int) {
		for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
			keys = append(keys, fmt.Sprintf("%s.%s %v", prefix, s, []int{c}))
		}
	}
	linear := func(prefix string, out, in int) {
		keys = append(keys, fmt.Sprintf("%s.weight %v", prefix, []int{out, in}), fmt.Sprintf("%s.bias %v", prefix, []int{out}))
	}
	switch name {
	case "vgg11":
		in := 3
		for _, l := range []struct{ i, c int }{{0, 64}, {4, 128}, {8, 256}, {11, 256}, {15, 512}, {18, 512}, {22, 512}, {25, 512}} {
			conv(fmt.Sprintf("features.%d", l.i), l.c, in, 3, true)
			bn(fmt.Sprintf("features.%d", l.i+1), l.c)
			in = l.c
		}
		linear("classifier", 10, 512)
	case "alexnet":
		conv("features.0", 64, 3, 11, true)
		conv("features.3", 192, 64, 5, true)
		conv("features.6", 384, 192, 3, true)
		conv("features.8", 256, 384, 3, true)
		conv("features.10", 256, 256, 3, true)
		linear("classifier", 10, 256)
	case "resnet20":
		conv("conv1", 16, 3, 3, false)
		bn("bn1", 16)
		in := 16
		for s, w := range []int{16, 32, 64} {
			for i := range 3 {
				p := fmt.Sprintf("layer%d.%d", s+1, i)
				conv(p+".conv1", w, in, 3, false)
				bn(p+".bn1", w)
				conv(p+".conv2", w, w, 3, false)
				bn(p+".bn2", w)
				in = w
			}
		}
		linear("fc", 10, 64)
	}
	return keys
}

func TestPyTorchNames(t *testing.T) {
	for _, name := range []string{"vgg11", "alexnet", "resnet20"} {
		m, err := ByName(name, Options{Shortcut: 'A', Classes: 10})
		require.NoError(t, err)
		var got []string
		for _, p := range append(append([]*nn.Param{}, m.Params...), m.Buffers...) {
			got = append(got, fmt.Sprintf("%s %v", p.Name, p.Shape))
		}
		require.ElementsMatch(t, pytorchKeys(name), got, name)
	}
}
