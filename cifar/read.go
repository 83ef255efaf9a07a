// Package cifar reads CIFAR-10 in its official binary layout — the
// cifar-10-binary.tar.gz archive (streamed, never extracted), an extracted
// cifar-10-batches-bin folder, or single .bin files — and serves
// normalised, augmented batches for training.
package cifar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Record layout: one label byte, then 32x32 red, green and blue planes.
const (
	RecordSize = 1 + ImageSize
	ImageSize  = 3 * 32 * 32
	Classes    = 10
	// maxRecords bounds one file (the official ones hold 10,000), so that
	// no header can make the reader allocate without limit.
	maxRecords = 60000
)

// DefaultClassNames are CIFAR-10's classes, for when no batches.meta.txt is
// given.
var DefaultClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Set is a set of images, each ImageSize bytes (R, G, B planes), with
// labels 0..9.
type Set struct {
	Images []byte
	Labels []byte
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns image i's bytes.
func (s *Set) Image(i int) []byte { return s.Images[i*ImageSize : (i+1)*ImageSize] }

// Slice returns images [from, to) (sharing memory).
func (s *Set) Slice(from, to int) *Set {
	return &Set{Images: s.Images[from*ImageSize : to*ImageSize], Labels: s.Labels[from:to]}
}

// Data is what was read: the training batches in order, the test batch if
// present (else nil), and the class names.
type Data struct {
	Train   *Set
	Test    *Set
	Classes []string
	Source  string
}

var (
	// Names are matched at the end of a path, of an archive member
	// (archive.tar.gz:member) or at its start.
	trainName = regexp.MustCompile(`(^|[/:])data_batch_([0-9]+)\.bin$`)
	testName  = regexp.MustCompile(`(^|[/:])test_batch\.bin$`)
	metaName  = regexp.MustCompile(`(^|[/:])batches\.meta\.txt$`)
)

// collector gathers files by role as they are read.
type collector struct {
	train map[int]*Set
	test  *Set
	names []string
}

func (c *collector) add(name string, r io.Reader, size int64) error {
	switch {
	case trainName.MatchString(name):
		var idx int
		fmt.Sscanf(trainName.FindStringSubmatch(name)[2], "%d", &idx)
		if _, dup := c.train[idx]; dup {
			return fmt.Errorf("cifar: %s: data_batch_%d appears twice", name, idx)
		}
		s, err := readRecords(name, r, size)
		if err != nil {
			return err
		}
		c.train[idx] = s
	case testName.MatchString(name):
		s, err := readRecords(name, r, size)
		if err != nil {
			return err
		}
		c.test = s
	case metaName.MatchString(name):
		names, err := readMeta(name, r, size)
		if err != nil {
			return err
		}
		c.names = names
	}
	return nil
}

// readRecords reads size bytes of records from r, checking the size and
// every label.
func readRecords(name string, r io.Reader, size int64) (*Set, error) {
	if size <= 0 || size%RecordSize != 0 {
		return nil, fmt.Errorf("cifar: %s: %d bytes is not a positive multiple of the %d-byte record", name, size, RecordSize)
	}
	n := size / RecordSize
	if n > maxRecords {
		return nil, fmt.Errorf("cifar: %s: %d records, more than the %d a CIFAR file can hold", name, n, maxRecords)
	}
	// Grow with the data actually read, not with the size the header
	// claims: a short or hostile file costs only what it holds.
	first := min(n, 1024)
	s := &Set{Images: make([]byte, 0, first*ImageSize), Labels: make([]byte, 0, first)}
	rec := make([]byte, RecordSize)
	for i := range int(n) {
		if _, err := io.ReadFull(r, rec); err != nil {
			return nil, fmt.Errorf("cifar: %s: truncated at record %d (byte offset %d): %w", name, i, int64(i)*RecordSize, err)
		}
		if rec[0] >= Classes {
			return nil, fmt.Errorf("cifar: %s: record %d (byte offset %d) has label %d, want 0-9", name, i, int64(i)*RecordSize, rec[0])
		}
		s.Labels = append(s.Labels, rec[0])
		s.Images = append(s.Images, rec[1:]...)
	}
	return s, nil
}

// readMeta reads class names, one a line, ten of them.
func readMeta(name string, r io.Reader, size int64) ([]string, error) {
	if size > 4096 {
		return nil, fmt.Errorf("cifar: %s: %d bytes is too large for ten class names", name, size)
	}
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", name, err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != Classes {
		return nil, fmt.Errorf("cifar: %s: %d class names, want %d", name, len(names), Classes)
	}
	return names, nil
}

func (c *collector) finish(source string) (*Data, error) {
	if len(c.train) == 0 && c.test == nil {
		return nil, fmt.Errorf("cifar: %s: no data_batch_N.bin or test_batch.bin found", source)
	}
	idx := make([]int, 0, len(c.train))
	for i := range c.train {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	train := &Set{}
	for _, i := range idx {
		train.Images = append(train.Images, c.train[i].Images...)
		train.Labels = append(train.Labels, c.train[i].Labels...)
	}
	d := &Data{Train: train, Test: c.test, Classes: c.names, Source: source}
	if d.Classes == nil {
		d.Classes = DefaultClassNames
	}
	return d, nil
}

// Load reads CIFAR-10 from path: a .tar.gz archive, a folder holding the
// .bin files (directly or in cifar-10-batches-bin/), or one .bin file
// (test_batch.bin is taken as the test set, any other as training data).
func Load(path string) (*Data, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	c := &collector{train: map[int]*Set{}}
	switch {
	case st.IsDir():
		err = c.loadDir(path)
	case strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz"):
		err = c.loadArchive(path)
	default:
		err = c.loadFile(path)
	}
	if err != nil {
		return nil, err
	}
	return c.finish(path)
}

func (c *collector) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	name := filepath.Base(path)
	if !testName.MatchString(name) && !trainName.MatchString(name) && !metaName.MatchString(name) {
		// A lone file of records is training data.
		s, err := readRecords(path, f, st.Size())
		if err != nil {
			return err
		}
		c.train[1] = s
		return nil
	}
	return c.add(path, f, st.Size())
}

func (c *collector) loadDir(dir string) error {
	if sub := filepath.Join(dir, "cifar-10-batches-bin"); isDir(sub) {
		dir = sub
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		if trainName.MatchString(n) || testName.MatchString(n) || metaName.MatchString(n) {
			if err := c.loadFile(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func (c *collector) loadArchive(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	return c.readArchive(path, f)
}

// readArchive streams a .tar.gz, reading the files it knows as they pass.
func (c *collector) readArchive(path string, r io.Reader) error {
	gz, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return fmt.Errorf("cifar: %s: not a gzip archive: %w", path, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cifar: %s: reading the archive: %w", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := c.add(path+":"+h.Name, tr, h.Size); err != nil {
			return err
		}
	}
}
