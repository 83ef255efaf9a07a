// Package data holds labelled image sets in memory, whatever they were
// read from (package cifar for CIFAR-10 and CIFAR-100, imagefolder for
// folders of PNG and JPEG files, datasets to tell which), and serves them
// for training: a validation split, per-channel normalisation, the paper's
// augmentation drawn as a function of (seed, step), and batches prepared
// ahead on a goroutine.
package data

import (
	"fmt"
	"hash/crc32"
)

// Shape is an image's channels and size.
type Shape struct{ C, H, W int }

// Len is the number of bytes (or floats) of one image.
func (s Shape) Len() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Set is N images of one Shape, each C planes of H x W bytes (R, G, B),
// with labels in [0, len(Classes)).
type Set struct {
	Shape   Shape
	Classes []string
	Images  []byte
	Labels  []int32
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns image i's bytes.
func (s *Set) Image(i int) []byte { n := s.Shape.Len(); return s.Images[i*n : (i+1)*n] }

// Slice returns images [from, to) (sharing memory).
func (s *Set) Slice(from, to int) *Set {
	n := s.Shape.Len()
	return &Set{Shape: s.Shape, Classes: s.Classes, Images: s.Images[from*n : to*n], Labels: s.Labels[from:to]}
}

// Check reports an error unless the set is consistent: bytes for each
// label, labels in range.
func (s *Set) Check() error {
	if s.Shape.C < 1 || s.Shape.H < 1 || s.Shape.W < 1 {
		return fmt.Errorf("data: images of shape %v", s.Shape)
	}
	if len(s.Images) != s.Len()*s.Shape.Len() {
		return fmt.Errorf("data: %d bytes for %d images of %v", len(s.Images), s.Len(), s.Shape)
	}
	for i, l := range s.Labels {
		if l < 0 || int(l) >= len(s.Classes) {
			return fmt.Errorf("data: image %d has label %d, want 0-%d", i, l, len(s.Classes)-1)
		}
	}
	return nil
}

// Fingerprint names the set by content: its size and a checksum of its
// labels and pixels (a resumed run checks it has the same data).
func (s *Set) Fingerprint() string {
	h := crc32.NewIEEE()
	for _, l := range s.Labels {
		h.Write([]byte{byte(l), byte(l >> 8), byte(l >> 16), byte(l >> 24)})
	}
	h.Write(s.Images)
	return fmt.Sprintf("%d images, crc32 %08x", s.Len(), h.Sum32())
}

// Data is what a reader found: the training images, the test images if
// there are any (else nil), and where they came from.
type Data struct {
	Train, Test *Set
	Source      string
}

// Split returns the set less its last val images, and those images as the
// validation set (the paper holds out 5,000 of CIFAR-10's 50,000).
func Split(train *Set, val int) (*Set, *Set, error) {
	n := train.Len()
	if val < 0 || val >= n {
		return nil, nil, fmt.Errorf("data: a validation split of %d leaves no training images out of %d", val, n)
	}
	return train.Slice(0, n-val), train.Slice(n-val, n), nil
}
