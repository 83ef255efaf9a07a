package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/imagefolder"
	"github.com/vknn/vknn/internal/trained"
)

// toImage turns image i of a set back into an image.
func toImage(s *data.Set, i int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, s.Shape.W, s.Shape.H))
	p, L := s.Image(i), s.Shape.H*s.Shape.W
	for y := range s.Shape.H {
		for x := range s.Shape.W {
			j := y*s.Shape.W + x
			img.Set(x, y, color.RGBA{p[j], p[L+j], p[2*L+j], 255})
		}
	}
	return img
}

// TestClassify trains a small model in the test, writes a handful of its
// training images as PNG and JPEG files (one scaled up to 64x64), and
// classify gives each its label, as text and as JSON; a file that is not
// an image is reported and fails the command, the others still classified.
func TestClassify(t *testing.T) {
	// The generated images' fine coloured stripes do not survive JPEG's
	// chroma subsampling: the set is what JPEG makes of them, so that the
	// files written below are images of the kind the model learnt.
	set := trained.Set(256, 5)
	for i := range set.Len() {
		var b bytes.Buffer
		require.NoError(t, jpeg.Encode(&b, toImage(set, i), &jpeg.Options{Quality: 95}))
		img, err := jpeg.Decode(&b)
		require.NoError(t, err)
		copy(set.Image(i), imagefolder.Pixels(img, 32, 32))
	}
	ckpt, _, _ := trained.Model(t, set, 0, 150)
	dir := t.TempDir()
	var files []string
	var want []string
	for i := range 6 {
		img := toImage(set, i)
		name := filepath.Join(dir, set.Classes[set.Labels[i]]+string(rune('a'+i)))
		f, err := os.Create(name + map[bool]string{true: ".png", false: ".jpg"}[i%2 == 0])
		require.NoError(t, err)
		if i%2 == 0 {
			require.NoError(t, png.Encode(f, img))
		} else {
			require.NoError(t, jpeg.Encode(f, img, &jpeg.Options{Quality: 95}))
		}
		require.NoError(t, f.Close())
		files, want = append(files, f.Name()), append(want, set.Classes[set.Labels[i]])
	}
	// One image at another size: scaled to the model's input.
	big := image.NewRGBA(image.Rect(0, 0, 64, 64))
	src := toImage(set, 6)
	for y := range 64 {
		for x := range 64 {
			big.Set(x, y, src.At(x/2, y/2))
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, big))
	bigName := filepath.Join(dir, "big.png")
	require.NoError(t, os.WriteFile(bigName, b.Bytes(), 0o644))
	files, want = append(files, bigName), append(want, set.Classes[set.Labels[6]])

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(append([]string{"--checkpoint", ckpt, "--top", "2", "--json"}, files...), &stdout, &stderr), stderr.String())
	sc := bufio.NewScanner(&stdout)
	for i := 0; sc.Scan(); i++ {
		var r result
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		require.Equal(t, files[i], r.File)
		require.Len(t, r.Predictions, 2)
		require.Equal(t, want[i], r.Predictions[0].Class, "%s", r.File)
		require.Greater(t, r.Predictions[0].Prob, r.Predictions[1].Prob)
	}

	stdout.Reset()
	notImage := filepath.Join(dir, "notes.png")
	require.NoError(t, os.WriteFile(notImage, []byte("not a png"), 0o644))
	err := run([]string{"--checkpoint", ckpt, files[0], notImage}, &stdout, &stderr)
	require.ErrorContains(t, err, "1 of 2 files could not be read")
	require.Contains(t, stdout.String(), files[0]+": "+want[0]+" ")
	require.Contains(t, stdout.String(), notImage+": error: ")

	require.ErrorContains(t, run([]string{"--checkpoint", ckpt}, &stdout, &stderr), "no image files")
	require.Error(t, run([]string{"--checkpoint", filepath.Join(dir, "none"), files[0]}, &stdout, &stderr))
}
