package infer_test

import (
	"fmt"
	"image"
	_ "image/jpeg"
	"log"
	"os"

	"github.com/vknn/vknn/infer"
)

// Classify an image file with a checkpoint written by train: the model,
// its classes and the normalisation all come from the checkpoint.
func ExampleOpen() {
	c, err := infer.Open("runs/resnet20/best.safetensors", infer.Options{GPU: 0})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	f, err := os.Open("cat.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	top, err := c.Classify([]image.Image{img}, 3) // any size: scaled to the model's input
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range top[0] {
		fmt.Printf("%s %.3f\n", p.Class, p.Prob)
	}
}
