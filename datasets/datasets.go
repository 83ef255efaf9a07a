// Package datasets opens a labelled image set by its path, whatever its
// layout: CIFAR-10 or CIFAR-100 in their binary layouts (package cifar),
// or a folder of class folders of PNG and JPEG files (package
// imagefolder), as a folder or a .tar or .tar.gz archive.
package datasets

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/imagefolder"
)

// Options configure Load.
type Options struct {
	// Labels chooses CIFAR-100's labels: "fine" (default) or "coarse".
	Labels string
	// Size brings an image folder's images to Size x Size (0: their most
	// common size).
	Size int
	// Log receives what the reading passed over (nil: nothing).
	Log io.Writer
}

// Load reads the set at path. CIFAR's binary layouts are recognised by
// their file names (data_batch_N.bin, test_batch.bin, train.bin,
// test.bin); anything else is read as an image folder.
func Load(path string, o Options) (*data.Data, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	d, err := cifar.Load(path, cifar.Options{Labels: o.Labels})
	if err == nil || !errors.Is(err, cifar.ErrNotCIFAR) {
		return d, err
	}
	res, ferr := imagefolder.Load(path, imagefolder.Options{Size: o.Size})
	if ferr != nil {
		return nil, fmt.Errorf("datasets: %s is neither CIFAR-10 nor CIFAR-100 in the binary layout, nor an image folder: %w", path, ferr)
	}
	if o.Log != nil && len(res.Skipped) > 0 {
		fmt.Fprintf(o.Log, "data: skipped %d files that are not PNG or JPEG images (e.g. %s)\n", len(res.Skipped), res.Skipped[0])
	}
	if o.Log != nil && res.Scaled > 0 {
		fmt.Fprintf(o.Log, "data: scaled %d images to %dx%d (bilinear)\n", res.Scaled, res.Set.Shape.H, res.Set.Shape.W)
	}
	return &data.Data{Train: res.Set, Source: path}, nil
}
