package cifar

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/vknn/vknn/data"
)

// Synthetic makes n learnable CIFAR-shaped images: each class is a
// coloured stripe pattern of its own orientation and frequency, with
// noise. For tests and smoke runs.
func Synthetic(n int, seed uint64) *data.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &data.Set{Shape: Shape, Classes: DefaultClassNames, Images: make([]byte, n*ImageSize), Labels: make([]int32, n)}
	for i := range n {
		k := rng.IntN(Classes)
		s.Labels[i] = int32(k)
		img := s.Image(i)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					stripe := (x*(k%3+1) + y*(k/3+1) + 4*c) / (2 + k%4) % 2
					v := 60 + 120*stripe + rng.IntN(60)
					img[c*1024+y*32+x] = byte(v)
				}
			}
		}
	}
	return s
}

// WriteRecords writes s in CIFAR-10's binary record layout.
func WriteRecords(w io.Writer, s *data.Set) error {
	if s.Shape != Shape {
		return fmt.Errorf("cifar: images of %v, CIFAR's are %v", s.Shape, Shape)
	}
	rec := make([]byte, RecordSize)
	for i := range s.Len() {
		if s.Labels[i] < 0 || s.Labels[i] > 255 {
			return fmt.Errorf("cifar: label %d does not fit a byte", s.Labels[i])
		}
		rec[0] = byte(s.Labels[i])
		copy(rec[1:], s.Image(i))
		if _, err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// WriteArchive writes a .tar.gz in the official layout: the training sets
// as data_batch_1.bin, ..., the test set (if not nil) as test_batch.bin,
// and batches.meta.txt.
func WriteArchive(path string, train []*data.Set, test *data.Set) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	add := func(name string, body []byte) error {
		h := &tar.Header{Name: "cifar-10-batches-bin/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	var sb strings.Builder
	for i, s := range train {
		sb.Reset()
		if err = WriteRecords(&sb, s); err == nil {
			err = add(fmt.Sprintf("data_batch_%d.bin", i+1), []byte(sb.String()))
		}
		if err != nil {
			break
		}
	}
	if err == nil && test != nil {
		sb.Reset()
		if err = WriteRecords(&sb, test); err == nil {
			err = add("test_batch.bin", []byte(sb.String()))
		}
	}
	if err == nil {
		err = add("batches.meta.txt", []byte(strings.Join(DefaultClassNames, "\n")+"\n"))
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
