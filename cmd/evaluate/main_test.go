package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/cifar"
	"github.com/vknn/vknn/data"
	"github.com/vknn/vknn/internal/trained"
)

// TestEvaluate: evaluate gives the accuracy the trainer measured on the
// same held-out images, with a per-class table and the confusion matrix.
func TestEvaluate(t *testing.T) {
	set := trained.Set(320, 7)
	ckpt, _, acc := trained.Model(t, set, 64, 40)
	archive := filepath.Join(t.TempDir(), "set.tar.gz")
	require.NoError(t, cifar.WriteArchive(archive, []*data.Set{set}, nil))
	png := filepath.Join(t.TempDir(), "confusion.png")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"--checkpoint", ckpt, "--data", archive, "--val", "64", "--confusion", png}, &stdout, &stderr), stderr.String())
	t.Log(stdout.String())
	require.Contains(t, stdout.String(), fmt.Sprintf("(validation split, 64 images): accuracy %.2f%%", 100*acc))
	require.Contains(t, stdout.String(), "airplane")
	st, err := os.Stat(png)
	require.NoError(t, err)
	require.Positive(t, st.Size())

	// With a test set, that is what is evaluated.
	withTest := filepath.Join(t.TempDir(), "t.tar.gz")
	require.NoError(t, cifar.WriteArchive(withTest, []*data.Set{set}, set.Slice(256, 320)))
	stdout.Reset()
	require.NoError(t, run([]string{"--checkpoint", ckpt, "--data", withTest, "--confusion", "", "--json"}, &stdout, &stderr))
	require.Contains(t, stdout.String(), fmt.Sprintf(`"accuracy": %v`, acc))

	require.ErrorContains(t, run([]string{"--checkpoint", ckpt, "--data", archive, "--split", "test"}, &stdout, &stderr), "no test set")
	require.ErrorContains(t, run([]string{"--checkpoint", ckpt}, &stdout, &stderr), "--data")
}
