package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/go-gl/mathgl/mgl32"
)

// Norm is a per-channel normalisation of pixels scaled to [0, 1]:
// (x - Mean[c]) / Std[c].
type Norm struct{ Mean, Std []float32 }

// Stats computes the per-channel mean and standard deviation of s.
func Stats(s *Set) Norm {
	C, L := s.Shape.C, s.Shape.H*s.Shape.W
	sum, sq := make([]float64, C), make([]float64, C)
	for i := range s.Len() {
		img := s.Image(i)
		for c := range C {
			for _, p := range img[c*L : (c+1)*L] {
				v := float64(p) / 255
				sum[c] += v
				sq[c] += v * v
			}
		}
	}
	n := Norm{Mean: make([]float32, C), Std: make([]float32, C)}
	count := float64(max(s.Len()*L, 1))
	for c := range C {
		mean := sum[c] / count
		n.Mean[c] = float32(mean)
		n.Std[c] = float32(math.Sqrt(max(sq[c]/count-mean*mean, 1e-12)))
	}
	return n
}

// String writes the norm as checkpoints keep it: "mean m0,m1,m2 std
// s0,s1,s2".
func (n Norm) String() string {
	f := func(xs []float32) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(s, ",")
	}
	return "mean " + f(n.Mean) + " std " + f(n.Std)
}

// ParseNorm reads what Norm.String writes, for c channels.
func ParseNorm(s string, c int) (Norm, error) {
	var mean, std string
	if _, err := fmt.Sscanf(s, "mean %s std %s", &mean, &std); err != nil {
		return Norm{}, fmt.Errorf("data: normalisation %q: %w", s, err)
	}
	parse := func(list string) ([]float32, error) {
		parts := strings.Split(list, ",")
		if len(parts) != c {
			return nil, fmt.Errorf("data: normalisation %q: %d values, want %d", s, len(parts), c)
		}
		out := make([]float32, c)
		for i, p := range parts {
			v, err := strconv.ParseFloat(p, 32)
			if err != nil {
				return nil, fmt.Errorf("data: normalisation %q: %w", s, err)
			}
			out[i] = float32(v)
		}
		return out, nil
	}
	m, err := parse(mean)
	if err != nil {
		return Norm{}, err
	}
	d, err := parse(std)
	if err != nil {
		return Norm{}, err
	}
	for _, v := range d {
		if !(v > 0) {
			return Norm{}, fmt.Errorf("data: normalisation %q: a standard deviation is not positive", s)
		}
	}
	return Norm{Mean: m, Std: d}, nil
}

// Augment is the paper's augmentation: pad Pad pixels with zeros, take a
// random crop of the image's size, flip horizontally with probability 1/2.
type Augment struct {
	Pad  int
	Flip bool
}

// PaperAugment is section 4.2's augmentation.
var PaperAugment = Augment{Pad: 4, Flip: true}

// transform returns the map from output pixel (x, y, 1) to source pixel
// for a crop offset (dx, dy) in the padded image and an optional flip, for
// images w pixels wide.
func transform(dx, dy, pad, w int, flip bool) mgl32.Mat3 {
	m := mgl32.Translate2D(float32(dx-pad), float32(dy-pad))
	if flip {
		m = m.Mul3(mgl32.Translate2D(float32(w-1), 0)).Mul3(mgl32.Scale2D(-1, 1))
	}
	return m
}

// Write normalises image img (of shape sh) into dst through a random
// augmentation drawn from rng; with a zero Augment, it only normalises.
func (a Augment) Write(dst []float32, img []byte, sh Shape, n Norm, rng *rand.Rand) {
	L := sh.H * sh.W
	if a.Pad == 0 && !a.Flip {
		for c := range sh.C {
			for i, p := range img[c*L : (c+1)*L] {
				dst[c*L+i] = (float32(p)/255 - n.Mean[c]) / n.Std[c]
			}
		}
		return
	}
	dx, dy := rng.IntN(2*a.Pad+1), rng.IntN(2*a.Pad+1)
	m := transform(dx, dy, a.Pad, sh.W, a.Flip && rng.IntN(2) == 1)
	for y := range sh.H {
		for x := range sh.W {
			src := m.Mul3x1(mgl32.Vec3{float32(x), float32(y), 1})
			sx, sy := int(math.Round(float64(src[0]))), int(math.Round(float64(src[1])))
			inside := sx >= 0 && sx < sh.W && sy >= 0 && sy < sh.H
			for c := range sh.C {
				v := float32(0) // zero padding, before normalisation
				if inside {
					v = float32(img[c*L+sy*sh.W+sx]) / 255
				}
				dst[c*L+y*sh.W+x] = (v - n.Mean[c]) / n.Std[c]
			}
		}
	}
}

// Batch is one batch of normalised images and their labels.
type Batch struct {
	Images []float32 // n x C x H x W
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
	sh := l.Set.Shape
	n := sh.Len()
	b := Batch{Images: make([]float32, l.Batch*n), Labels: make([]int32, l.Batch), Epoch: epoch, Step: step}
	for i := range l.Batch {
		idx := l.perm[k*l.Batch+i]
		rng := rand.New(rand.NewPCG(l.Seed^0x9e3779b97f4a7c15, uint64(step)<<20|uint64(i)))
		l.Aug.Write(b.Images[i*n:(i+1)*n], l.Set.Image(idx), sh, l.Norm, rng)
		b.Labels[i] = l.Set.Labels[idx]
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
	per := s.Shape.Len()
	x := make([]float32, s.Len()*per)
	for i := range s.Len() {
		Augment{}.Write(x[i*per:(i+1)*per], s.Image(i), s.Shape, n, nil)
	}
	return x, append([]int32(nil), s.Labels...)
}
