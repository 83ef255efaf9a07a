// Package cifar reads CIFAR-10 and CIFAR-100 in their official binary
// layouts — the cifar-10-binary.tar.gz and cifar-100-binary.tar.gz
// archives (streamed, never extracted), their extracted folders, or single
// .bin files — into data sets, and downloads CIFAR-10.
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
	"strconv"
	"strings"

	"github.com/vknn/vknn/data"
)

// Record layouts: CIFAR-10 has one label byte, CIFAR-100 a coarse and a
// fine one; then 32x32 red, green and blue planes.
const (
	ImageSize  = 3 * 32 * 32
	RecordSize = 1 + ImageSize // CIFAR-10
	Classes    = 10            // CIFAR-10
	// maxRecords bounds one file (the official ones hold 10,000 and
	// 50,000), so that no header can make the reader allocate without
	// limit.
	maxRecords = 60000
)

// Shape is the shape of every CIFAR image.
var Shape = data.Shape{C: 3, H: 32, W: 32}

// DefaultClassNames are CIFAR-10's classes, for when no batches.meta.txt is
// given.
var DefaultClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Options choose what Load reads.
type Options struct {
	// Labels chooses CIFAR-100's labels: "fine" (100 classes, the
	// default) or "coarse" (20 superclasses). CIFAR-10 has one kind.
	Labels string
}

// format is a record layout.
type format struct {
	name    string
	labels  int // label bytes before the pixels
	classes int // of the label read
	pick    int // which label byte is read
}

func (f format) record() int { return f.labels + ImageSize }

var cifar10 = format{name: "CIFAR-10", labels: 1, classes: 10}

func cifar100(o Options) format {
	if o.Labels == "coarse" {
		return format{name: "CIFAR-100", labels: 2, classes: 20, pick: 0}
	}
	return format{name: "CIFAR-100", labels: 2, classes: 100, pick: 1}
}

var (
	// Names are matched at the end of a path, of an archive member
	// (archive.tar.gz:member) or at its start.
	trainName    = regexp.MustCompile(`(^|[/:])data_batch_([0-9]+)\.bin$`)
	testName     = regexp.MustCompile(`(^|[/:])test_batch\.bin$`)
	metaName     = regexp.MustCompile(`(^|[/:])batches\.meta\.txt$`)
	train100Name = regexp.MustCompile(`(^|[/:])train\.bin$`)
	test100Name  = regexp.MustCompile(`(^|[/:])test\.bin$`)
	fineName     = regexp.MustCompile(`(^|[/:])fine_label_names\.txt$`)
	coarseName   = regexp.MustCompile(`(^|[/:])coarse_label_names\.txt$`)
)

// known tells whether a file name is one Load reads.
func known(name string) bool {
	for _, re := range []*regexp.Regexp{trainName, testName, metaName, train100Name, test100Name, fineName, coarseName} {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// collector gathers files by role as they are read.
type collector struct {
	o       Options
	train   map[int]*data.Set // CIFAR-10's batches, by number; CIFAR-100's one at 1
	test    *data.Set
	names   []string // CIFAR-10's
	fine    []string
	coarse  []string
	formats map[string]bool // the layouts seen
}

func newCollector(o Options) *collector {
	return &collector{o: o, train: map[int]*data.Set{}, formats: map[string]bool{}}
}

func (c *collector) add(name string, r io.Reader, size int64) error {
	var err error
	switch {
	case trainName.MatchString(name):
		idx, _ := strconv.Atoi(trainName.FindStringSubmatch(name)[2])
		if _, dup := c.train[idx]; dup {
			return fmt.Errorf("cifar: %s: data_batch_%d appears twice", name, idx)
		}
		c.train[idx], err = c.records(name, r, size, cifar10)
	case testName.MatchString(name):
		c.test, err = c.records(name, r, size, cifar10)
	case train100Name.MatchString(name):
		c.train[1], err = c.records(name, r, size, cifar100(c.o))
	case test100Name.MatchString(name):
		c.test, err = c.records(name, r, size, cifar100(c.o))
	case metaName.MatchString(name):
		c.names, err = readNames(name, r, size, 10)
	case fineName.MatchString(name):
		c.fine, err = readNames(name, r, size, 100)
	case coarseName.MatchString(name):
		c.coarse, err = readNames(name, r, size, 20)
	}
	return err
}

func (c *collector) records(name string, r io.Reader, size int64, f format) (*data.Set, error) {
	c.formats[f.name] = true
	return readRecords(name, r, size, f)
}

// readRecords reads size bytes of records of format f from r, checking the
// size and every label.
func readRecords(name string, r io.Reader, size int64, f format) (*data.Set, error) {
	rs := int64(f.record())
	if size <= 0 || size%rs != 0 {
		return nil, fmt.Errorf("cifar: %s: %d bytes is not a positive multiple of the %d-byte %s record", name, size, rs, f.name)
	}
	n := size / rs
	if n > maxRecords {
		return nil, fmt.Errorf("cifar: %s: %d records, more than the %d a CIFAR file can hold", name, n, maxRecords)
	}
	// Grow with the data actually read, not with the size the header
	// claims: a short or hostile file costs only what it holds.
	first := min(n, 1024)
	s := &data.Set{Shape: Shape, Images: make([]byte, 0, first*ImageSize), Labels: make([]int32, 0, first)}
	rec := make([]byte, rs)
	for i := range int(n) {
		if _, err := io.ReadFull(r, rec); err != nil {
			return nil, fmt.Errorf("cifar: %s: truncated at record %d (byte offset %d): %w", name, i, int64(i)*rs, err)
		}
		if l := int(rec[f.pick]); l >= f.classes {
			return nil, fmt.Errorf("cifar: %s: record %d (byte offset %d) has label %d, want 0-%d", name, i, int64(i)*rs, l, f.classes-1)
		}
		s.Labels = append(s.Labels, int32(rec[f.pick]))
		s.Images = append(s.Images, rec[f.labels:]...)
	}
	return s, nil
}

// readNames reads n class names, one a line.
func readNames(name string, r io.Reader, size int64, n int) ([]string, error) {
	const limit = 16 << 10
	if size > limit {
		return nil, fmt.Errorf("cifar: %s: %d bytes is too large for %d class names", name, size, n)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit))
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
	if len(names) != n {
		return nil, fmt.Errorf("cifar: %s: %d class names, want %d", name, len(names), n)
	}
	return names, nil
}

// numbered is n class names "0", "1", ...: CIFAR-100's when its name files
// are not there.
func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// ErrNotCIFAR is what Load's error wraps when it finds no CIFAR file at all.
var ErrNotCIFAR = errors.New("no data_batch_N.bin or test_batch.bin (CIFAR-10), nor train.bin or test.bin (CIFAR-100) found")

func (c *collector) finish(source string) (*data.Data, error) {
	if len(c.train) == 0 && c.test == nil {
		return nil, fmt.Errorf("cifar: %s: %w", source, ErrNotCIFAR)
	}
	if len(c.formats) > 1 {
		return nil, fmt.Errorf("cifar: %s holds both CIFAR-10 and CIFAR-100 files", source)
	}
	classes := c.names
	if c.formats["CIFAR-100"] {
		classes = c.fine
		if c.o.Labels == "coarse" {
			classes = c.coarse
		}
		if classes == nil {
			classes = numbered(cifar100(c.o).classes)
		}
	} else if classes == nil {
		classes = DefaultClassNames
	}
	idx := make([]int, 0, len(c.train))
	for i := range c.train {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	d := &data.Data{Source: source}
	if len(idx) > 0 {
		d.Train = &data.Set{Shape: Shape, Classes: classes}
		for _, i := range idx {
			d.Train.Images = append(d.Train.Images, c.train[i].Images...)
			d.Train.Labels = append(d.Train.Labels, c.train[i].Labels...)
		}
	} else {
		d.Train = &data.Set{Shape: Shape, Classes: classes}
	}
	if c.test != nil {
		c.test.Classes = classes
		d.Test = c.test
	}
	return d, nil
}

// Load reads CIFAR-10 or CIFAR-100 from path: a .tar.gz archive, a folder
// holding the .bin files (directly or in cifar-10-batches-bin/ or
// cifar-100-binary/), or one .bin file (test_batch.bin and test.bin are
// taken as the test set, any other as training data).
func Load(path string, o Options) (*data.Data, error) {
	if o.Labels != "" && o.Labels != "fine" && o.Labels != "coarse" {
		return nil, fmt.Errorf("cifar: labels %q: want fine or coarse", o.Labels)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cifar: %w", err)
	}
	c := newCollector(o)
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
	if !known(filepath.Base(path)) {
		if !strings.HasSuffix(path, ".bin") {
			return fmt.Errorf("cifar: %s: %w", path, ErrNotCIFAR)
		}
		// A lone .bin file of records is training data, in the layout its
		// size fits.
		fm := cifar10
		if st.Size()%int64(cifar10.record()) != 0 && st.Size()%int64(cifar100(c.o).record()) == 0 {
			fm = cifar100(c.o)
		}
		s, err := c.records(path, f, st.Size(), fm)
		if err != nil {
			return err
		}
		c.train[1] = s
		return nil
	}
	return c.add(path, f, st.Size())
}

func (c *collector) loadDir(dir string) error {
	for _, sub := range []string{"cifar-10-batches-bin", "cifar-100-binary"} {
		if p := filepath.Join(dir, sub); isDir(p) {
			dir = p
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cifar: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() && known(e.Name()) {
			if err := c.loadFile(filepath.Join(dir, e.Name())); err != nil {
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
