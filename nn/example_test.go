package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/nn"
)

// stage is conv-bn-relu-maxpool: a module of one's own is a function
// returning a composition.
func stage(in, out int) nn.Module {
	return nn.Seq(
		nn.Conv2D{In: in, Out: out, Kernel: 3, Pad: 1},
		nn.BatchNorm2D{C: out},
		nn.ReLU{},
		nn.MaxPool2D{Kernel: 2})
}

// smallCNN is three conv-bn-relu-maxpool stages (32x32 becomes 4x4),
// dropout and a linear classifier.
func smallCNN() nn.Module {
	return nn.Seq(
		nn.Name("features", nn.Seq(stage(3, 16), stage(16, 32), stage(32, 64))),
		nn.Flatten{},
		nn.Dropout{P: 0.1},
		nn.Name("fc", nn.Linear{In: 64 * 4 * 4, Out: 10}))
}

// stripes makes n 3x32x32 images of class k in [0, 10): horizontal
// stripes of k+1 periods in one colour channel, plus noise.
func stripes(rng *rand.Rand, n int) ([]float32, []int32) {
	x, y := make([]float32, n*3*32*32), make([]int32, n)
	for i := range y {
		y[i] = int32(rng.IntN(10))
		for j := range 3 * 32 * 32 {
			c, h := j/1024, j/32%32
			v := 0.5 * rng.NormFloat64()
			if c == int(y[i])%3 {
				v += math.Sin(float64(y[i]+1) * 2 * math.Pi * float64(h) / 32)
			}
			x[i*3*32*32+j] = float32(v)
		}
	}
	return x, y
}

// Example defines a small CNN (three conv-bn-relu-maxpool stages, dropout
// and a linear classifier) and trains it on the GPU for a few steps on
// generated data: one description gives the training step, Predict, the
// summary and the checkpoint names.
func Example() {
	model, err := nn.New("small-cnn", smallCNN(), nn.Shape{C: 3, H: 32, W: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d parameters, %.1f MFLOPs, first tensor %s\n", model.Name, model.Count(), model.FLOPs()/1e6, model.Params[0].Name)

	dev, err := gpu.Open(0, gpu.Options{}) // the first Vulkan device (VKNN_VALIDATE=1: validation on)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()
	exec, err := nn.NewGPU(dev, model, nn.SGD{Momentum: 0.9, WD: 5e-4}, 32, nn.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer exec.Close()
	if err := exec.SetState(model.Init(1)); err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var first, last float64
	for step := range 30 {
		x, y := stripes(rng, 32)
		loss, _, err := exec.Step(x, y, 0.02)
		if err != nil {
			fmt.Println(err)
			return
		}
		if step == 0 {
			first = loss
		}
		last = loss
	}
	x, y := stripes(rng, 200)
	_, correct, err := exec.Eval(x, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	logits, err := exec.Predict(x[:3*3*32*32])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss fell tenfold: %v; accuracy over 90%%: %v; %d logits for 3 images\n", last < first/10, correct > 180, len(logits))
	for _, m := range dev.Messages() {
		fmt.Println("validation:", m)
	}
	// Output:
	// small-cnn: 33946 parameters, 5.6 MFLOPs, first tensor features.0.0.weight
	// loss fell tenfold: true; accuracy over 90%: true; 30 logits for 3 images
}
