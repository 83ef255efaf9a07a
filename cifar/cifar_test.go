package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/data"
)

func writeFile(t *testing.T, path string, s *data.Set) {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteRecords(&b, s))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
}

func TestLoadForms(t *testing.T) {
	dir := t.TempDir()
	a, b, test := Synthetic(30, 1), Synthetic(20, 2), Synthetic(10, 3)
	archive := filepath.Join(dir, "c.tar.gz")
	require.NoError(t, WriteArchive(archive, []*data.Set{a, b}, test))
	archiveNoTest := filepath.Join(dir, "train.tar.gz")
	require.NoError(t, WriteArchive(archiveNoTest, []*data.Set{a, b}, nil))
	folder := filepath.Join(dir, "x", "cifar-10-batches-bin")
	require.NoError(t, os.MkdirAll(folder, 0o755))
	writeFile(t, filepath.Join(folder, "data_batch_2.bin"), b)
	writeFile(t, filepath.Join(folder, "data_batch_1.bin"), a)
	writeFile(t, filepath.Join(folder, "test_batch.bin"), test)
	single := filepath.Join(dir, "some.bin")
	writeFile(t, single, a)

	for _, tc := range []struct {
		path     string
		train    int
		hasTest  bool
		firstLbl int32
	}{
		{archive, 50, true, a.Labels[0]},
		{archiveNoTest, 50, false, a.Labels[0]},
		{filepath.Join(dir, "x"), 50, true, a.Labels[0]},
		{folder, 50, true, a.Labels[0]},
		{single, 30, false, a.Labels[0]},
		{filepath.Join(folder, "test_batch.bin"), 0, true, 0},
	} {
		d, err := Load(tc.path, Options{})
		require.NoError(t, err, tc.path)
		require.Equal(t, tc.train, d.Train.Len(), tc.path)
		require.Equal(t, tc.hasTest, d.Test != nil, tc.path)
		require.Len(t, d.Train.Classes, 10)
		if tc.train > 0 {
			require.Equal(t, tc.firstLbl, d.Train.Labels[0], "batches in order: %s", tc.path)
			require.Equal(t, a.Image(0), d.Train.Image(0))
			if tc.train == 50 {
				require.Equal(t, b.Image(19), d.Train.Image(49))
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good := Synthetic(5, 4)
	var rec bytes.Buffer
	require.NoError(t, WriteRecords(&rec, good))

	badSize := filepath.Join(dir, "data_batch_1.bin")
	require.NoError(t, os.WriteFile(badSize, rec.Bytes()[:RecordSize*2+7], 0o644))
	_, err := Load(badSize, Options{})
	require.ErrorContains(t, err, "multiple of the 3073-byte CIFAR-10 record")

	badLabel := filepath.Join(dir, "data_batch_2.bin")
	b := bytes.Clone(rec.Bytes())
	b[3*RecordSize] = 10
	require.NoError(t, os.WriteFile(badLabel, b, 0o644))
	_, err = Load(badLabel, Options{})
	require.ErrorContains(t, err, "record 3 (byte offset 9219) has label 10")
	require.ErrorContains(t, err, "data_batch_2.bin")

	archive := filepath.Join(dir, "a.tar.gz")
	require.NoError(t, WriteArchive(archive, []*data.Set{Synthetic(300, 5)}, nil))
	whole, err := os.ReadFile(archive)
	require.NoError(t, err)
	for _, cut := range []int{len(whole) / 2, len(whole) - 30, 100} {
		trunc := filepath.Join(dir, "t.tar.gz")
		require.NoError(t, os.WriteFile(trunc, whole[:cut], 0o644))
		_, err = Load(trunc, Options{})
		require.Error(t, err, "archive cut at %d of %d bytes", cut, len(whole))
	}

	_, err = Load(filepath.Join(dir, "missing"), Options{})
	require.Error(t, err)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	_, err = Load(empty, Options{})
	require.ErrorContains(t, err, "no data_batch")
}

func TestFetch(t *testing.T) {
	body := []byte(strings.Repeat("cifar", 1000))
	sum := md5.Sum(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	f := &Fetcher{URL: srv.URL + "/a.tar.gz", MD5: hex.EncodeToString(sum[:]), Size: int64(len(body)), Progress: &bytes.Buffer{}}
	path, err := f.Fetch(context.Background(), dir)
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, body, got)

	for name, bad := range map[string]*Fetcher{
		"md5":       {URL: srv.URL + "/a", MD5: "00", Size: int64(len(body))},
		"size":      {URL: srv.URL + "/a", Size: 5},
		"404":       {URL: srv.URL + "/missing"},
		"no server": {URL: "http://127.0.0.1:1/x"},
	} {
		d := t.TempDir()
		_, err := bad.Fetch(context.Background(), d)
		require.Error(t, err, name)
		require.ErrorContains(t, err, "put it there", name)
		entries, _ := os.ReadDir(d)
		require.Empty(t, entries, "%s: nothing is left behind", name)
	}

	t.Setenv("VKNN_DATA", dir)
	p, err := Resolve(context.Background(), "", nil)
	require.NoError(t, err)
	require.Equal(t, path, p)
	t.Setenv("VKNN_DATA", t.TempDir())
	_, err = Resolve(context.Background(), "", nil)
	require.ErrorContains(t, err, "no data in")
}

// TestSharedArchive reads the CIFAR-10 training set shared beside the
// repository (CI has it).
func TestSharedArchive(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "cifar-10-train-binary.tar.gz")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must have the shared data: %v", err)
		}
		t.Skipf("no shared data: %v", err)
	}
	d, err := Load(path, Options{})
	require.NoError(t, err)
	require.Equal(t, 50000, d.Train.Len())
	require.Nil(t, d.Test)
	require.Equal(t, DefaultClassNames, d.Train.Classes)
	var count [10]int
	for _, l := range d.Train.Labels {
		count[l]++
	}
	for c, n := range count {
		require.Equal(t, 5000, n, "class %d", c)
	}
}

// TestTopLevelArchive reads a .tar.gz whose files sit at its top level,
// with no cifar-10-batches-bin folder.
func TestTopLevelArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flat.tar.gz")
	f, err := os.Create(path)
	require.NoError(t, err)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, s := range map[string]*data.Set{"data_batch_1.bin": Synthetic(20, 1), "test_batch.bin": Synthetic(10, 2)} {
		var b bytes.Buffer
		require.NoError(t, WriteRecords(&b, s))
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(b.Len()), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b.Bytes())
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	require.NoError(t, f.Close())
	d, err := Load(path, Options{})
	require.NoError(t, err)
	require.Equal(t, 20, d.Train.Len())
	require.Equal(t, 10, d.Test.Len())
}

// TestDataFolderFromEnv: $VKNN_DATA may be an extracted
// cifar-10-batches-bin folder or any folder of the .bin files, as --data
// may.
func TestDataFolderFromEnv(t *testing.T) {
	bins := t.TempDir()
	f, err := os.Create(filepath.Join(bins, "data_batch_1.bin"))
	require.NoError(t, err)
	require.NoError(t, WriteRecords(f, Synthetic(20, 1)))
	require.NoError(t, f.Close())
	extracted := t.TempDir() // a folder holding cifar-10-batches-bin
	require.NoError(t, os.CopyFS(filepath.Join(extracted, "cifar-10-batches-bin"), os.DirFS(bins)))
	for _, dir := range []string{bins, extracted} {
		t.Setenv("VKNN_DATA", dir)
		p, err := Resolve(context.Background(), "", nil)
		require.NoError(t, err, dir)
		d, err := Load(p, Options{})
		require.NoError(t, err)
		require.Equal(t, 20, d.Train.Len())
	}
}

// records100 writes CIFAR-100 records: coarse label, fine label, pixels.
func records100(n int, seed uint64) (body []byte, coarse, fine []int32, imgs []byte) {
	s := Synthetic(n, seed)
	for i := range n {
		c, f := int32(i%20), int32((i*7)%100)
		coarse, fine = append(coarse, c), append(fine, f)
		body = append(append(body, byte(c), byte(f)), s.Image(i)...)
	}
	return body, coarse, fine, s.Images
}

func TestCIFAR100(t *testing.T) {
	dir := t.TempDir()
	train, coarse, fine, imgs := records100(30, 1)
	test, _, testFine, _ := records100(7, 2)
	names := func(n int, prefix string) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s%d\n", prefix, i)
		}
		return []byte(b.String())
	}
	archive := filepath.Join(dir, "cifar-100-binary.tar.gz")
	f, err := os.Create(archive)
	require.NoError(t, err)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, m := range []struct {
		name string
		body []byte
	}{{"train.bin", train}, {"test.bin", test}, {"fine_label_names.txt", names(100, "fine")}, {"coarse_label_names.txt", names(20, "coarse")}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: "cifar-100-binary/" + m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(m.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	require.NoError(t, f.Close())

	d, err := Load(archive, Options{})
	require.NoError(t, err)
	require.Equal(t, fine, d.Train.Labels, "fine labels by default")
	require.Equal(t, imgs, d.Train.Images)
	require.Len(t, d.Train.Classes, 100)
	require.Equal(t, "fine7", d.Train.Classes[7])
	require.Equal(t, testFine, d.Test.Labels)
	require.NoError(t, d.Train.Check())
	d, err = Load(archive, Options{Labels: "coarse"})
	require.NoError(t, err)
	require.Equal(t, coarse, d.Train.Labels)
	require.Equal(t, "coarse3", d.Train.Classes[3])
	_, err = Load(archive, Options{Labels: "both"})
	require.ErrorContains(t, err, `labels "both"`)

	// A lone file of CIFAR-100 records, by its size; numbered classes.
	lone := filepath.Join(dir, "mine.bin")
	require.NoError(t, os.WriteFile(lone, train, 0o644))
	d, err = Load(lone, Options{})
	require.NoError(t, err)
	require.Equal(t, fine, d.Train.Labels)
	require.Equal(t, "99", d.Train.Classes[99])

	// A fine label out of range, named with its record.
	bad := bytes.Clone(train)
	bad[2*(2+ImageSize)+1] = 100
	require.NoError(t, os.WriteFile(filepath.Join(dir, "train.bin"), bad, 0o644))
	_, err = Load(filepath.Join(dir, "train.bin"), Options{})
	require.ErrorContains(t, err, "record 2 (byte offset 6148) has label 100, want 0-99")

	// CIFAR-10 and CIFAR-100 files together are refused.
	mixed := filepath.Join(dir, "mixed")
	require.NoError(t, os.Mkdir(mixed, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mixed, "train.bin"), train, 0o644))
	writeFile(t, filepath.Join(mixed, "data_batch_1.bin"), Synthetic(3, 1))
	_, err = Load(mixed, Options{})
	require.ErrorContains(t, err, "both CIFAR-10 and CIFAR-100")
}
