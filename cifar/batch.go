package cifar

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/go-gl/mathgl/mgl32"
)

// Split returns the training set less its last val images, and those
// images as the validation set (the paper holds out 5,000 of 50,000).
func Split(train *Set, val int) (*Set, *Set, error) {
	n := train.Len()
	if val < 0 || val >= n {
		return nil, nil, fmt.Errorf("cifar: a validation split of %d leaves no training images out of %d", val, n)
	}
	return train.Slice(0, n-val), train.Slice(n-val, n), nil
}

// Norm is a per-channel normalisation of pixels scaled to [0, 1].
type Norm struct{ Mean, Std [3]float32 }

// Stats computes the per-channel mean and standard deviation of s.
func Stats(s *Set) Norm {
	var sum, sq [3]float64
	for i := range s.Len() {
		img := s.Image(i)
		for c := range 3 {
			for _, p := range img[c*1024 : (c+1)*1024] {
				v := float64(p) / 255
				sum[c] += v
				sq[c] += v * v
			}
		}
	}
	var n Norm
	count := float64(s.Len() * 1024)
	for c := range 3 {
		mean := sum[c] / count
		n.Mean[c] = float32(mean)
		n.Std[c] = float32(math.Sqrt(max(sq[c]/count-mean*mean, 1e-12)))
	}
	return n
}

// Augment is the paper's augmentation: pad 4 pixels with zeros, take a
// random 32x32 crop, flip horizontally with probability 1/2.
type Augment struct {
	Pad  int
	Flip bool
}

// PaperAugment is section 4.2's augmentation.
var PaperAugment = Augment{Pad: 4, Flip: true}

// transform returns the map from output pixel (x, y, 1) to source pixel
// for a crop offset (dx, dy) in the padded image and an optional flip.
func transform(dx, dy, pad int, flip bool) mgl32.Mat3 {
	m := mgl32.Translate2D(float32(dx-pad), float32(dy-pad))
	if flip {
		m = m.Mul3(mgl32.Translate2D(31, 0)).Mul3(mgl32.Scale2D(-1, 1))
	}
	return m
}

// write normalises image img into dst (3x32x32 floats) through a random
// augmentation drawn from rng; with aug zero, it only normalises.
func (a Augment) write(dst []float32, img []byte, n Norm, rng *rand.Rand) {
	m := mgl32.Ident3()
	if a.Pad > 0 || a.Flip {
		dx, dy := rng.IntN(2*a.Pad+1), rng.IntN(2*a.Pad+1)
		m = transform(dx, dy, a.Pad, a.Flip && rng.IntN(2) == 1)
	}
	for y := range 32 {
		for x := range 32 {
			src := m.Mul3x1(mgl32.Vec3{float32(x), float32(y), 1})
			sx, sy := int(math.Round(float64(src[0]))), int(math.Round(float64(src[1])))
			inside := sx >= 0 && sx < 32 && sy >= 0 && sy < 32
			for c := range 3 {
				v := float32(0) // zero padding, before normalisation
				if inside {
					v = float32(img[c*1024+sy*32+sx]) / 255
				}
				dst[c*1024+y*32+x] = (v - n.Mean[c]) / n.Std[c]
			}
		}
	}
}

// Batch is one batch of normalised images and their labels.
type Batch struct {
	Images []float32 // n x 3 x 32 x 32
	Labels []int32
	Epoch  int
	Step   int // global step this batch is for
}

// Loader serves training batches: each epoch a fresh permutation, each
// image a fresh augmentation, all drawn from the seed, the epoch and the
// position, so that a run resumed at any step sees the same data as an
// uninterrupted one. The last partial batch of each epoch is dropped.
//
// A Loader is used by one goroutine at a time.
type Loader struct {
	Set   *Set
	Norm  Norm
	Aug   Augment
	Batch int
	Seed  uint64

	permEpoch int
	perm      []int
}

// StepsPerEpoch is the number of full batches per epoch.
func (l *Loader) StepsPerEpoch() int { return l.Set.Len() / l.Batch }

// Get builds the batch for a global step.
func (l *Loader) Get(step int) Batch {
	per := l.StepsPerEpoch()
	epoch, k := step/per, step%per
	if l.perm == nil || l.permEpoch != epoch {
		l.perm, l.permEpoch = rand.New(rand.NewPCG(l.Seed, uint64(epoch))).Perm(l.Set.Len()), epoch
	}
	perm := l.perm
	b := Batch{Images: make([]float32, l.Batch*ImageSize), Labels: make([]int32, l.Batch), Epoch: epoch, Step: step}
	for i := range l.Batch {
		idx := perm[k*l.Batch+i]
		rng := rand.New(rand.NewPCG(l.Seed^0x9e3779b97f4a7c15, uint64(step)<<20|uint64(i)))
		l.Aug.write(b.Images[i*ImageSize:(i+1)*ImageSize], l.Set.Image(idx), l.Norm, rng)
		b.Labels[i] = int32(l.Set.Labels[idx])
	}
	return b
}

// Stream prepares the batches for steps [from, to) in the background, up
// to ahead batches before they are asked for, so that the device does not
// wait for the data. Closing stop ends it early.
func (l *Loader) Stream(from, to, ahead int, stop <-chan struct{}) <-chan Batch {
	out := make(chan Batch, ahead)
	go func() {
		defer close(out)
		for s := from; s < to; s++ {
			b := l.Get(s)
			select {
			case out <- b:
			case <-stop:
				return
			}
		}
	}()
	return out
}

// Normalized returns all of s normalised without augmentation (for
// evaluation), with its labels.
func Normalized(s *Set, n Norm) ([]float32, []int32) {
	x := make([]float32, s.Len()*ImageSize)
	y := make([]int32, s.Len())
	for i := range s.Len() {
		Augment{}.write(x[i*ImageSize:(i+1)*ImageSize], s.Image(i), n, nil)
		y[i] = int32(s.Labels[i])
	}
	return x, y
}
