package cifar

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vknn/vknn/data"
)

// The fuzz targets: any input gives data or an error, never a panic, and
// no allocation is sized by an unchecked header field (tar sizes are
// checked against the record layout and a record cap before reading).

func FuzzRecords(f *testing.F) {
	var b bytes.Buffer
	WriteRecords(&b, Synthetic(2, 1))
	f.Add(b.Bytes())
	f.Add([]byte{9})
	f.Add(make([]byte, RecordSize))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := readRecords("fuzz", bytes.NewReader(in), int64(len(in)), cifar10)
		if err != nil {
			return
		}
		if s.Len()*RecordSize != len(in) {
			t.Fatalf("%d records from %d bytes", s.Len(), len(in))
		}
		for _, l := range s.Labels {
			if l >= Classes {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}

func FuzzArchive(f *testing.F) {
	for _, seed := range archiveSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c := newCollector(Options{})
		if err := c.readArchive("fuzz.tar.gz", bytes.NewReader(in)); err != nil {
			return
		}
		d, err := c.finish("fuzz")
		if err != nil {
			return
		}
		for _, set := range []*data.Set{d.Train, d.Test} {
			if set == nil {
				continue
			}
			if len(set.Images) != set.Len()*ImageSize {
				t.Fatalf("%d image bytes for %d labels", len(set.Images), set.Len())
			}
			for _, l := range set.Labels {
				if l >= Classes {
					t.Fatalf("label %d accepted", l)
				}
			}
		}
	})
}

func FuzzMeta(f *testing.F) {
	f.Add([]byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"))
	f.Add([]byte("a\n\n\nb"))
	f.Fuzz(func(t *testing.T, in []byte) {
		names, err := readNames("fuzz", bytes.NewReader(in), int64(len(in)), Classes)
		if err == nil && len(names) != Classes {
			t.Fatalf("%d names accepted", len(names))
		}
	})
}

// archiveSeeds are small archives in the official layout.
func archiveSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, sets := range [][]*data.Set{{Synthetic(2, 1)}, {Synthetic(1, 2), Synthetic(1, 3)}} {
		p := filepath.Join(f.TempDir(), "s.tar.gz")
		if err := WriteArchive(p, sets, nil); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
