package data

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// random makes n images of shape sh with labels of classes classes.
func random(n int, sh Shape, classes int, seed uint64) *Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &Set{Shape: sh, Images: make([]byte, n*sh.Len()), Labels: make([]int32, n)}
	for i := range s.Images {
		s.Images[i] = byte(rng.IntN(256))
	}
	for i := range s.Labels {
		s.Labels[i] = int32(rng.IntN(classes))
	}
	for c := range classes {
		s.Classes = append(s.Classes, string(rune('a'+c)))
	}
	return s
}

func TestSplitNormAugment(t *testing.T) {
	for _, sh := range []Shape{{3, 32, 32}, {1, 7, 9}, {4, 12, 6}} {
		s := random(100, sh, 5, 6)
		require.NoError(t, s.Check())
		train, val, err := Split(s, 20)
		require.NoError(t, err)
		require.Equal(t, 80, train.Len())
		require.Equal(t, 20, val.Len())
		require.Equal(t, s.Image(80), val.Image(0))
		_, _, err = Split(s, 100)
		require.Error(t, err)
		train0, val0, err := Split(s, 0)
		require.NoError(t, err)
		require.Equal(t, 100, train0.Len())
		require.Equal(t, 0, val0.Len())

		n := Stats(train)
		require.Len(t, n.Mean, sh.C)
		x, y := Normalized(train, n)
		require.Equal(t, train.Labels, y)
		L := sh.H * sh.W
		for c := range sh.C {
			var sum, sq float64
			for i := range train.Len() {
				for _, v := range x[i*sh.Len()+c*L : i*sh.Len()+(c+1)*L] {
					sum += float64(v)
					sq += float64(v) * float64(v)
				}
			}
			cnt := float64(train.Len() * L)
			require.InDelta(t, 0, sum/cnt, 1e-4, "%v: mean of channel %d", sh, c)
			require.InDelta(t, 1, sq/cnt, 1e-3, "%v: variance of channel %d", sh, c)
		}

		l := &Loader{Set: train, Norm: n, Aug: PaperAugment, Batch: 16, Seed: 9}
		require.Equal(t, 5, l.StepsPerEpoch())
		b1, b2 := l.Get(7), (&Loader{Set: train, Norm: n, Aug: PaperAugment, Batch: 16, Seed: 9}).Get(7)
		require.Equal(t, b1, b2, "batches are a function of seed and step")
		require.Len(t, b1.Images, 16*sh.Len())
		require.Equal(t, 1, b1.Epoch)
		require.NotEqual(t, l.Get(2).Images, l.Get(7).Images, "epochs differ")
		var got []Batch
		for b := range l.Stream(3, 8, 2, nil) {
			got = append(got, b)
		}
		require.Len(t, got, 5)
		require.Equal(t, l.Get(7), got[4])
	}

	// The transform: identity without augmentation; a flip mirrors; a crop
	// shifts and pads with zeros.
	require.Equal(t, [3]float32{5, 7, 1}, [3]float32(transform(4, 4, 4, 32, false).Mul3x1([3]float32{5, 7, 1})))
	require.Equal(t, [3]float32{26, 7, 1}, [3]float32(transform(4, 4, 4, 32, true).Mul3x1([3]float32{5, 7, 1})))
	require.Equal(t, [3]float32{1, 10, 1}, [3]float32(transform(0, 7, 4, 32, false).Mul3x1([3]float32{5, 7, 1})))
	require.Equal(t, [3]float32{3, 7, 1}, [3]float32(transform(4, 4, 4, 9, true).Mul3x1([3]float32{5, 7, 1})))
}

func TestCheckAndNorm(t *testing.T) {
	s := random(3, Shape{3, 4, 4}, 2, 1)
	s.Labels[1] = 2
	require.ErrorContains(t, s.Check(), "image 1 has label 2, want 0-1")
	s.Labels[1] = 0
	s.Images = s.Images[1:]
	require.ErrorContains(t, s.Check(), "bytes for 3 images")

	n := Norm{Mean: []float32{0.5, 0.25, 0.125}, Std: []float32{0.2, 0.3, 1}}
	back, err := ParseNorm(n.String(), 3)
	require.NoError(t, err)
	require.Equal(t, n, back)
	for bad, want := range map[string]string{
		"mean 1,2 std 1,1":       "2 values, want 3",
		"mean 1,2,3 std 1,0,1":   "not positive",
		"nonsense":               "normalisation",
		"mean 1,x,3 std 1,1,1":   "invalid syntax",
		"mean 1,2,3 std 1,1,NaN": "not positive",
	} {
		_, err := ParseNorm(bad, 3)
		require.ErrorContains(t, err, want, bad)
	}
	require.Contains(t, random(4, Shape{1, 2, 2}, 2, 3).Fingerprint(), "4 images, crc32 ")
}
