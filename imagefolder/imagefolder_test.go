package imagefolder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/cifar"
)

// pic makes a w x h image whose pixels encode (seed, x, y).
func pic(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed*40 + x), uint8(y * 7), uint8(seed + x + y), 255})
		}
	}
	return img
}

func encode(t *testing.T, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if format == "png" {
		require.NoError(t, png.Encode(&b, img))
	} else {
		require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}))
	}
	return b.Bytes()
}

// tree writes files (path -> bytes) under a new folder and returns it.
func tree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for p, b := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, b, 0o644))
	}
	return root
}

// tarball writes files into a .tar.gz (gz) or .tar and returns its path.
func tarball(t *testing.T, files map[string][]byte, gz bool) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "set.tar")
	if gz {
		name += ".gz"
	}
	f, err := os.Create(name)
	require.NoError(t, err)
	var w = f
	var zw *gzip.Writer
	tw := (*tar.Writer)(nil)
	if gz {
		zw = gzip.NewWriter(f)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(w)
	}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	// As git archive writes: a PAX global header first, which is
	// metadata, not a file.
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "0123abcd"}}))
	for _, p := range names {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(files[p])), Typeflag: tar.TypeReg}))
		_, err := tw.Write(files[p])
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	if zw != nil {
		require.NoError(t, zw.Close())
	}
	require.NoError(t, f.Close())
	return name
}

// TestLoad reads the same classes from a folder, a .tar and a .tar.gz:
// PNG pixels exactly, class names from the folders, nested folders in
// their top class, other files skipped, other sizes scaled.
func TestLoad(t *testing.T) {
	files := map[string][]byte{
		"train/cat/a.png":        encode(t, pic(8, 6, 1), "png"),
		"train/cat/b.PNG":        encode(t, pic(8, 6, 2), "png"),
		"train/cat/indoor/c.png": encode(t, pic(8, 6, 3), "png"),
		"train/dog/d.jpg":        encode(t, pic(8, 6, 4), "jpeg"),
		"train/dog/big.png":      encode(t, pic(16, 12, 5), "png"),
		"train/dog/notes.txt":    []byte("not an image"),
		"train/dog/.hidden.png":  []byte("macOS resource fork"),
		"train/bird/e.jpeg":      encode(t, pic(8, 6, 6), "jpeg"),
	}
	for _, src := range []string{tree(t, files), tarball(t, files, true), tarball(t, files, false)} {
		res, err := Load(src, Options{})
		require.NoError(t, err, src)
		s := res.Set
		require.Equal(t, []string{"bird", "cat", "dog"}, s.Classes, src)
		require.Equal(t, 6, s.Len(), src)
		require.Equal(t, 6, s.Shape.H)
		require.Equal(t, 8, s.Shape.W)
		require.Equal(t, 1, res.Scaled, "big.png is scaled")
		require.ElementsMatch(t, []string{"train/dog/notes.txt", "train/dog/.hidden.png"}, res.Skipped)
		count := map[int32]int{}
		for _, l := range s.Labels {
			count[l]++
		}
		require.Equal(t, map[int32]int{0: 1, 1: 3, 2: 2}, count)
		// a.png's pixels, exactly, in planes.
		want := planesOf(pic(8, 6, 1))
		found := false
		for i := range s.Len() {
			found = found || bytes.Equal(s.Image(i), want)
		}
		require.True(t, found, "a.png is read as its pixels")
	}
	res, err := Load(tree(t, files), Options{Size: 4})
	require.NoError(t, err)
	require.Equal(t, 4, res.Set.Shape.H)
	require.Equal(t, 6, res.Scaled, "every image scaled to 4x4")
}

func planesOf(img *image.RGBA) []byte {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	out := make([]byte, 3*n)
	for i := range n {
		out[i], out[n+i], out[2*n+i] = img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2]
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	good := encode(t, pic(4, 4, 1), "png")
	for name, tc := range map[string]struct {
		files map[string][]byte
		want  string
	}{
		"a wrong file":    {map[string][]byte{"cat/a.png": good, "dog/b.jpg": []byte("GIF89a...")}, "dog/b.jpg: not a PNG or JPEG image"},
		"no classes":      {map[string][]byte{"a.png": good, "b.png": good}, "a.png is not in a class folder"},
		"image at top":    {map[string][]byte{"cat/a.png": good, "b.png": good}, "b.png is not in a class folder"},
		"no images":       {map[string][]byte{"cat/a.txt": []byte("x")}, "holds no PNG or JPEG files"},
		"an empty class":  {map[string][]byte{"cat/a.png": good, "dog/readme.txt": []byte("x")}, "the class folder dog holds no PNG or JPEG files"},
		"a huge image":    {map[string][]byte{"cat/a.png": good, "dog/b.png": hugeHeader(t)}, "dog/b.png is 20000x20000: more than"},
		"a truncated png": {map[string][]byte{"cat/a.png": good[:len(good)/2]}, "cat/a.png: not a PNG or JPEG image"},
	} {
		_, err := Load(tree(t, tc.files), Options{})
		require.ErrorContains(t, err, tc.want, name)
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing"), Options{})
	require.Error(t, err)
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	require.NoError(t, os.WriteFile(bad, []byte("not gzip"), 0o644))
	_, err = Load(bad, Options{})
	require.ErrorContains(t, err, "not a gzip archive")
}

// hugeHeader is a PNG that claims 20000x20000 pixels (it is refused
// before decoding, by its header).
func hugeHeader(t *testing.T) []byte {
	b := encode(t, pic(1, 1, 1), "png")
	// IHDR's width and height, big-endian, at bytes 16..23.
	out := bytes.Clone(b)
	for i, v := range []byte{0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20} {
		out[16+i] = v
	}
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29])) // the chunk's CRC
	return out
}

// FuzzTar: any archive gives a set or an error, never a panic, and what it
// accepts is consistent.
func FuzzTar(f *testing.F) {
	good := map[string][]byte{"c/a.png": pngBytes(pic(3, 2, 1)), "d/b.png": pngBytes(pic(3, 2, 2))}
	for _, gz := range []bool{false} {
		name := filepath.Join(f.TempDir(), "seed.tar")
		fw, _ := os.Create(name)
		tw := tar.NewWriter(fw)
		for p, b := range good {
			tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
			tw.Write(b)
		}
		tw.Close()
		fw.Close()
		_ = gz
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var entries []entry
		var skipped []string
		dirs, err := readTar("fuzz.tar", bytes.NewReader(in), func(name string, body []byte) {
			if isImageName(name) && body != nil {
				entries = append(entries, entry{name, body})
			} else {
				skipped = append(skipped, name)
			}
		})
		if err != nil {
			return
		}
		s, err := build("fuzz.tar", entries, dirs, Options{MaxPixels: 1 << 16}, &Result{})
		if err != nil {
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("an inconsistent set was accepted: %v", err)
		}
	})
}

func pngBytes(img image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestSameAsBinary: the shared JPEG copy of CIFAR-10's training set, read
// as an image folder, holds the same images with the same labels as the
// binary archive (as sets: the orders differ). CI has ../shared.
func TestSameAsBinary(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data")
	jpegs, bins := filepath.Join(dir, "cifar-10-train-jpeg.tar.gz"), filepath.Join(dir, "cifar-10-train-binary.tar.gz")
	if _, err := os.Stat(jpegs); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must have the shared data: %v", err)
		}
		t.Skipf("no shared data: %v", err)
	}
	res, err := Load(jpegs, Options{})
	require.NoError(t, err)
	bin, err := cifar.Load(bins, cifar.Options{})
	require.NoError(t, err)
	s, b := res.Set, bin.Train
	require.Equal(t, b.Classes, s.Classes, "class names, in label order")
	require.Equal(t, b.Len(), s.Len())
	require.Equal(t, 0, res.Scaled)
	count := map[string]int{}
	for i := range b.Len() {
		count[string(b.Image(i))+b.Classes[b.Labels[i]]]++
	}
	for i := range s.Len() {
		k := string(s.Image(i)) + s.Classes[s.Labels[i]]
		if count[k] == 0 {
			t.Fatalf("image %d of the JPEG folder (class %s) is not in the binary archive", i, s.Classes[s.Labels[i]])
		}
		count[k]--
	}
}
