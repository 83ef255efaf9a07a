package datasets

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
)

func TestLoadTells(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "c.tar.gz")
	require.NoError(t, cifar.WriteArchive(archive, []*data.Set{cifar.Synthetic(12, 1)}, cifar.Synthetic(4, 2)))
	d, err := Load(archive, Options{})
	require.NoError(t, err)
	require.Equal(t, 12, d.Train.Len())
	require.Equal(t, 4, d.Test.Len())

	folder := filepath.Join(dir, "pics")
	for i, class := range []string{"cat", "dog", "dog"} {
		require.NoError(t, os.MkdirAll(filepath.Join(folder, class), 0o755))
		var b bytes.Buffer
		require.NoError(t, png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 5+i, 5))))
		require.NoError(t, os.WriteFile(filepath.Join(folder, class, string(rune('a'+i))+".png"), b.Bytes(), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(folder, "dog", "x.txt"), []byte("x"), 0o644))
	var log bytes.Buffer
	d, err = Load(folder, Options{Log: &log})
	require.NoError(t, err)
	require.Equal(t, []string{"cat", "dog"}, d.Train.Classes)
	require.Nil(t, d.Test)
	require.Equal(t, data.Shape{C: 3, H: 5, W: 5}, d.Train.Shape)
	require.Contains(t, log.String(), "skipped 1 files")
	require.Contains(t, log.String(), "scaled 2 images to 5x5", "three sizes, once each: the smallest")

	_, err = Load(filepath.Join(dir, "nothing"), Options{})
	require.Error(t, err)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	_, err = Load(empty, Options{})
	require.ErrorContains(t, err, "neither CIFAR-10 nor CIFAR-100")
}
