// Package imagefolder reads an image-classification set laid out as one
// folder per class of PNG or JPEG files (torchvision's ImageFolder), from
// a folder or from a .tar or .tar.gz archive read as a stream, without
// extracting it.
//
// The layout: leading folders that every image shares are passed over
// (train/cat/1.jpg and train/dog/2.jpg hold the classes cat and dog); the
// first folder below them is an image's class, whatever depth the file
// lies at (cat/indoor/3.jpg is a cat). Class names are the folder names,
// sorted; labels follow that order. Files that are not PNG or JPEG by
// name, and hidden files, are skipped and counted; a file named as an
// image that does not decode is an error naming it, as are an image at
// the top level, a class folder without images and an image over
// Options.MaxPixels. Images are brought to one size (Options.Size, else
// the most common) by bilinear scaling of the whole image (the aspect
// ratio is not kept), and are read as Go's image package decodes them,
// each pixel's RGBA() >> 8. The images are in a fixed shuffle of (class,
// path) order, so that a validation split of the last ones mixes the
// classes.
package imagefolder

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders
	_ "image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/draw"

	"github.com/vknn/vknn/data"
)

// Options configure Load.
type Options struct {
	// Size is the height and width of the images read (0: the most common
	// size; the others are scaled to it).
	Size int
	// MaxPixels bounds an image's width x height before it is decoded (0:
	// 16 megapixels).
	MaxPixels int
}

// Result is what Load read, and what it passed over.
type Result struct {
	Set     *data.Set
	Skipped []string // files not PNG or JPEG by name, or hidden
	Scaled  int      // images brought to the set's size
}

// entry is one image file found.
type entry struct {
	path string // slash-separated, relative to the folder or archive
	body []byte
}

// Load reads the image folder at path: a folder, or a .tar, .tar.gz or
// .tgz archive.
func Load(src string, o Options) (*Result, error) {
	if o.MaxPixels == 0 {
		o.MaxPixels = 16 << 20
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	var entries []entry
	var dirs []string
	res := &Result{}
	collect := func(name string, body []byte) {
		base := path.Base(name)
		switch {
		case strings.HasPrefix(base, "."):
			res.Skipped = append(res.Skipped, name)
		case isImageName(base):
			entries = append(entries, entry{path: name, body: body})
		default:
			res.Skipped = append(res.Skipped, name)
		}
	}
	if st.IsDir() {
		dirs, err = walkDir(src, collect)
	} else {
		dirs, err = readArchive(src, collect)
	}
	if err != nil {
		return nil, err
	}
	set, err := build(src, entries, dirs, o, res)
	if err != nil {
		return nil, err
	}
	res.Set = set
	return res, nil
}

// isImageName tells whether a file is PNG or JPEG by its name.
func isImageName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// walkDir reads the files under root, passing each image (by name) with
// its bytes to collect; it returns the folders seen.
func walkDir(root string, collect func(name string, body []byte)) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("imagefolder: %w", err)
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." {
				dirs = append(dirs, rel)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			collect(rel, nil) // counted as skipped unless named as an image
			return nil
		}
		var body []byte
		if isImageName(rel) && !strings.HasPrefix(path.Base(rel), ".") {
			if body, err = os.ReadFile(p); err != nil {
				return fmt.Errorf("imagefolder: %w", err)
			}
		}
		collect(rel, body)
		return nil
	})
	return dirs, err
}

// maxMember bounds one archive member read into memory.
const maxMember = 256 << 20

// readArchive streams a .tar or .tar.gz archive.
func readArchive(name string, collect func(name string, body []byte)) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %w", err)
	}
	defer f.Close()
	r := io.Reader(bufio.NewReaderSize(f, 1<<20))
	if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tgz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("imagefolder: %s: not a gzip archive: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	return readTar(name, r, collect)
}

func readTar(name string, r io.Reader, collect func(name string, body []byte)) ([]string, error) {
	tr := tar.NewReader(r)
	var dirs []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dirs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("imagefolder: %s: reading the archive: %w", name, err)
		}
		member := strings.TrimPrefix(path.Clean(strings.TrimPrefix(h.Name, "./")), "/")
		switch h.Typeflag {
		case tar.TypeDir:
			if member != "." {
				dirs = append(dirs, member)
			}
			continue
		case tar.TypeXGlobalHeader:
			continue // metadata (git archive writes one), not a file
		case tar.TypeReg:
		default:
			collect(member, nil)
			continue
		}
		var body []byte
		if isImageName(member) && !strings.HasPrefix(path.Base(member), ".") {
			if h.Size > maxMember {
				return nil, fmt.Errorf("imagefolder: %s: %s is %d bytes, more than %d", name, member, h.Size, maxMember)
			}
			// Grow with what is read, not with the size the header claims.
			var b bytes.Buffer
			if _, err := io.Copy(&b, io.LimitReader(tr, h.Size)); err != nil {
				return nil, fmt.Errorf("imagefolder: %s: %s: %w", name, member, err)
			}
			body = b.Bytes()
		}
		collect(member, body)
	}
}

// build decodes the images into a set.
func build(source string, entries []entry, dirs []string, o Options, res *Result) (*data.Set, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("imagefolder: %s holds no PNG or JPEG files", source)
	}
	paths := make([]string, len(entries))
	for i, e := range entries {
		paths[i] = e.path
	}
	skip := commonFolders(paths)
	classOf := func(p string) (string, bool) {
		parts := strings.Split(p, "/")[skip:]
		if len(parts) < 2 {
			return "", false
		}
		return parts[0], true
	}
	index := map[string]int{}
	for _, e := range entries {
		c, ok := classOf(e.path)
		if !ok {
			return nil, fmt.Errorf("imagefolder: %s: %s is not in a class folder: put each image in the folder of its class", source, e.path)
		}
		index[c] = 0
	}
	// A class folder (a folder at class depth) without images.
	for _, d := range dirs {
		parts := strings.Split(d, "/")
		if len(parts) == skip+1 {
			if _, ok := index[parts[skip]]; !ok && !strings.HasPrefix(parts[skip], ".") {
				return nil, fmt.Errorf("imagefolder: %s: the class folder %s holds no PNG or JPEG files", source, d)
			}
		}
	}
	classes := make([]string, 0, len(index))
	for c := range index {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for i, c := range classes {
		index[c] = i
	}
	sort.Slice(entries, func(i, j int) bool {
		ci, _ := classOf(entries[i].path)
		cj, _ := classOf(entries[j].path)
		if ci != cj {
			return ci < cj
		}
		return entries[i].path < entries[j].path
	})
	rand.New(rand.NewPCG(0x1a9e, 0xf01de2)).Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })

	sh, err := commonSize(entries, o)
	if err != nil {
		return nil, fmt.Errorf("imagefolder: %s: %w", source, err)
	}
	set := &data.Set{Shape: sh, Classes: classes, Labels: make([]int32, 0, len(entries)),
		Images: make([]byte, 0, len(entries)*sh.Len())}
	for _, e := range entries {
		img, err := decode(e)
		if err != nil {
			return nil, fmt.Errorf("imagefolder: %s: %w", source, err)
		}
		if b := img.Bounds(); b.Dx() != set.Shape.W || b.Dy() != set.Shape.H {
			img = scale(img, set.Shape.W, set.Shape.H)
			res.Scaled++
		}
		set.Images = appendPlanes(set.Images, img)
		c, _ := classOf(e.path)
		set.Labels = append(set.Labels, int32(index[c]))
	}
	return set, set.Check()
}

// commonSize is the size images are brought to: Options.Size, else the
// most common one (the smallest of those equally common). It checks every
// image's size against MaxPixels, from its header.
func commonSize(entries []entry, o Options) (data.Shape, error) {
	count := map[[2]int]int{}
	for _, e := range entries {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(e.body))
		if err != nil {
			return data.Shape{}, fmt.Errorf("%s: not a PNG or JPEG image: %w", e.path, err)
		}
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > o.MaxPixels/cfg.Height {
			return data.Shape{}, fmt.Errorf("%s is %dx%d: more than the %d pixels allowed (imagefolder.Options.MaxPixels)",
				e.path, cfg.Width, cfg.Height, o.MaxPixels)
		}
		count[[2]int{cfg.Height, cfg.Width}]++
	}
	if o.Size > 0 {
		return data.Shape{C: 3, H: o.Size, W: o.Size}, nil
	}
	var best [2]int
	for hw, n := range count {
		if n > count[best] || (n == count[best] && hw[0]*hw[1] < best[0]*best[1]) {
			best = hw
		}
	}
	return data.Shape{C: 3, H: best[0], W: best[1]}, nil
}

// commonFolders is how many leading folders every path shares while each
// still keeps a folder (its class) below them.
func commonFolders(paths []string) int {
	split := make([][]string, len(paths))
	for i, p := range paths {
		split[i] = strings.Split(p, "/")
	}
	for k := 0; ; k++ {
		first := ""
		for i, parts := range split {
			if len(parts) < k+3 { // a shared folder, a class folder, a file
				return k
			}
			if i == 0 {
				first = parts[k]
			} else if parts[k] != first {
				return k
			}
		}
	}
}

// DecodeFile decodes the PNG or JPEG file at path, refusing one of more
// than maxPixels pixels (0: 16 megapixels) before decoding it.
func DecodeFile(path string, maxPixels int) (image.Image, error) {
	if maxPixels == 0 {
		maxPixels = 16 << 20
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	e := entry{path: path, body: body}
	if _, err := commonSize([]entry{e}, Options{MaxPixels: maxPixels}); err != nil {
		return nil, err
	}
	return decode(e)
}

// decode decodes one image (commonSize has checked its size).
func decode(e entry) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(e.body))
	if err != nil {
		return nil, fmt.Errorf("%s: not a PNG or JPEG image: %w", e.path, err)
	}
	return img, nil
}

// scale brings img to w x h, bilinearly.
func scale(img image.Image, w, h int) image.Image {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// Pixels returns img as the planar bytes of a set of images of h x w: its
// red, green and blue planes, each pixel's RGBA() >> 8, after bilinear
// scaling if its size differs.
func Pixels(img image.Image, h, w int) []byte {
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		img = scale(img, w, h)
	}
	return appendPlanes(make([]byte, 0, 3*h*w), img)
}

// appendPlanes appends img's red, green and blue planes, each pixel's
// RGBA() >> 8.
func appendPlanes(dst []byte, img image.Image) []byte {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	start := len(dst)
	dst = append(dst, make([]byte, 3*n)...)
	planes := dst[start:]
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var r, g, bl uint32
			if ycc, ok := img.(*image.YCbCr); ok { // the same arithmetic, without an interface call
				o, c := ycc.YOffset(x, y), ycc.COffset(x, y)
				r, g, bl, _ = color.YCbCr{Y: ycc.Y[o], Cb: ycc.Cb[c], Cr: ycc.Cr[c]}.RGBA()
			} else {
				r, g, bl, _ = img.At(x, y).RGBA()
			}
			planes[i], planes[n+i], planes[2*n+i] = byte(r>>8), byte(g>>8), byte(bl>>8)
			i++
		}
	}
	return dst
}
