package layers

import (
	"math/rand/v2"
	"testing"
)

// Finite-difference checks of the CPU backward passes, in float64, of
// loss = sum(y * g) for a random g.

func TestBatchNormCPUGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	in := Shape{3, 4, 5, 3}
	x := randSlice[float64](rng, in.Len())
	gamma, beta := randSlice[float64](rng, in.C), randSlice[float64](rng, in.C)
	g := randSlice[float64](rng, in.Len())
	y, mean, invstd := make([]float64, in.Len()), make([]float64, in.C), make([]float64, in.C)
	rm, rv := make([]float64, in.C), make([]float64, in.C)
	loss := func() float64 {
		BNForwardTrain(DefaultBN, in, x, gamma, beta, rm, rv, y, mean, invstd)
		return dot(y, g)
	}
	loss()
	dx, dgamma, dbeta := make([]float64, in.Len()), make([]float64, in.C), make([]float64, in.C)
	BNBackward(in, x, g, gamma, mean, invstd, dx, dgamma, dbeta)
	checkGrad(t, "dx", x, dx, loss, 1e-6)
	checkGrad(t, "dgamma", gamma, dgamma, loss, 1e-6)
	checkGrad(t, "dbeta", beta, dbeta, loss, 1e-6)
}

func TestShortcutACPUGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, a := range []ShortcutA{{In: 3, Out: 7, Stride: 2}, {In: 4, Out: 8, Stride: 1}} {
		in := Shape{2, a.In, 5, 6}
		o := a.OutShape(in)
		x, g := randSlice[float64](rng, in.Len()), randSlice[float64](rng, o.Len())
		y := make([]float64, o.Len())
		loss := func() float64 { ShortcutAForward(a, in, x, y); return dot(y, g) }
		dx := make([]float64, in.Len())
		ShortcutABackwardAdd(a, in, g, dx)
		checkGrad(t, "shortcut dx", x, dx, loss, 1e-6)
	}
}

func TestPoolCPUGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	in := Shape{2, 3, 7, 6}
	for _, p := range []Pool2D{{Max: true, Kernel: 3, Stride: 2, Pad: 1}, {Max: false, Kernel: 3, Stride: 2, Pad: 1}, {Max: true, Kernel: 2, Stride: 2}} {
		o := p.OutShape(in)
		x, g := randSlice[float64](rng, in.Len()), randSlice[float64](rng, o.Len())
		y, arg := make([]float64, o.Len()), make([]int32, o.Len())
		loss := func() float64 { PoolForward(p, in, x, y, arg); return dot(y, g) }
		loss()
		dx := make([]float64, in.Len())
		PoolBackward(p, in, g, arg, dx)
		checkGrad(t, "pool dx", x, dx, loss, 1e-6)
	}
	x, g := randSlice[float64](rng, in.Len()), randSlice[float64](rng, in.N*in.C)
	y := make([]float64, in.N*in.C)
	loss := func() float64 { GlobalAvgPool(in, x, y); return dot(y, g) }
	dx := make([]float64, in.Len())
	GlobalAvgPoolBackward(in, g, dx)
	checkGrad(t, "global pool dx", x, dx, loss, 1e-6)
}

func TestLinearAndLossCPUGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	l, n := Linear{In: 5, Out: 4}, 3
	x, w, b := randSlice[float64](rng, n*l.In), randSlice[float64](rng, l.Out*l.In), randSlice[float64](rng, l.Out)
	labels := []int32{0, 3, 2}
	z, dz := make([]float64, n*l.Out), make([]float64, n*l.Out)
	loss := func() float64 {
		LinearForward(l, n, x, w, b, z)
		v, _ := SoftmaxCE(n, l.Out, z, labels, dz)
		return v
	}
	loss()
	dx, dw, db := make([]float64, n*l.In), make([]float64, l.Out*l.In), make([]float64, l.Out)
	LinearBackward(l, n, x, w, dz, dx, dw, db)
	checkGrad(t, "linear dx", x, dx, loss, 1e-6)
	checkGrad(t, "linear dw", w, dw, loss, 1e-6)
	checkGrad(t, "linear db", b, db, loss, 1e-6)
}

func TestReLUCPUGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	x, g := randSlice[float64](rng, 50), randSlice[float64](rng, 50)
	y := make([]float64, 50)
	loss := func() float64 { ReLU(x, y); return dot(y, g) }
	loss()
	dx := make([]float64, 50)
	ReLUBackward(y, g, dx)
	checkGrad(t, "relu dx", x, dx, loss, 1e-6)
}

func TestDropoutCPUGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	d, key := Dropout{P: 0.3}, DropoutKey(5, 6)
	x, g := randSlice[float64](rng, 200), randSlice[float64](rng, 200)
	y := make([]float64, 200)
	loss := func() float64 { DropoutApply(d, key, x, y); return dot(y, g) }
	dx := make([]float64, 200)
	DropoutApply(d, key, g, dx)
	checkGrad(t, "dropout dx", x, dx, loss, 1e-6)
}
