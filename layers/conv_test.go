package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

type convCase struct {
	name string
	c    Conv2D
	in   Shape
}

// The ResNet-20 convolutions at batch 128, and odd shapes.
var resnetConvs = []convCase{
	{"16x32x32", Conv2D{In: 16, Out: 16, Kernel: 3, Stride: 1, Pad: 1}, Shape{128, 16, 32, 32}},
	{"32x16x16", Conv2D{In: 32, Out: 32, Kernel: 3, Stride: 1, Pad: 1}, Shape{128, 32, 16, 16}},
	{"64x8x8", Conv2D{In: 64, Out: 64, Kernel: 3, Stride: 1, Pad: 1}, Shape{128, 64, 8, 8}},
	{"16to32s2", Conv2D{In: 16, Out: 32, Kernel: 3, Stride: 2, Pad: 1}, Shape{128, 16, 32, 32}},
	{"32to64s2", Conv2D{In: 32, Out: 64, Kernel: 3, Stride: 2, Pad: 1}, Shape{128, 32, 16, 16}},
	{"stem3to16", Conv2D{In: 3, Out: 16, Kernel: 3, Stride: 1, Pad: 1}, Shape{128, 3, 32, 32}},
}

var oddConvs = []convCase{
	{"odd3x3s2", Conv2D{In: 5, Out: 7, Kernel: 3, Stride: 2, Pad: 1, Bias: true}, Shape{3, 5, 9, 9}},
	{"odd3x3s1", Conv2D{In: 5, Out: 7, Kernel: 3, Stride: 1, Pad: 1}, Shape{3, 5, 9, 11}},
	{"odd1x1s2", Conv2D{In: 6, Out: 9, Kernel: 1, Stride: 2, Pad: 0, Bias: true}, Shape{2, 6, 7, 7}},
	{"odd5x5s1p0", Conv2D{In: 3, Out: 5, Kernel: 5, Stride: 1, Pad: 0}, Shape{2, 3, 8, 9}},
	{"odd1x1", Conv2D{In: 1, Out: 1, Kernel: 1, Stride: 1, Pad: 0}, Shape{1, 1, 1, 1}},
	{"odd11x11s4", Conv2D{In: 3, Out: 5, Kernel: 11, Stride: 4, Pad: 5, Bias: true}, Shape{2, 3, 19, 21}},
	{"odd7x7s2", Conv2D{In: 2, Out: 3, Kernel: 7, Stride: 2, Pad: 3}, Shape{1, 2, 9, 8}},
	{"odd3x3s5", Conv2D{In: 2, Out: 3, Kernel: 3, Stride: 5, Pad: 1, Bias: true}, Shape{2, 2, 11, 12}},
}

// wideConvs have the channel counts of VGG's and AlexNet's deep layers on
// small planes: long loops over input channels.
var wideConvs = []convCase{
	{"wide512x2x2", Conv2D{In: 512, Out: 512, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{2, 512, 2, 2}},
	{"wide256to512x4x4", Conv2D{In: 256, Out: 512, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{3, 256, 4, 4}},
	{"wide64to192k5", Conv2D{In: 64, Out: 192, Kernel: 5, Stride: 1, Pad: 2, Bias: true}, Shape{2, 64, 4, 4}},
	{"wide3to64k11s4", Conv2D{In: 3, Out: 64, Kernel: 11, Stride: 4, Pad: 5, Bias: true}, Shape{4, 3, 32, 32}},
}

// vecConvs take conv_v3's vec4 row path (3x3, padding 1, rows of whole
// tiles) with channel counts off the tiles and partial workgroups.
var vecConvs = []convCase{
	{"vec16s1", Conv2D{In: 5, Out: 7, Kernel: 3, Stride: 1, Pad: 1}, Shape{3, 5, 16, 16}},
	{"vec8s1", Conv2D{In: 6, Out: 4, Kernel: 3, Stride: 1, Pad: 1, Bias: true}, Shape{2, 6, 8, 8}},
	{"vec32s2", Conv2D{In: 5, Out: 20, Kernel: 3, Stride: 2, Pad: 1}, Shape{3, 5, 32, 32}},
	{"vec16s2", Conv2D{In: 9, Out: 3, Kernel: 3, Stride: 2, Pad: 1}, Shape{1, 9, 16, 16}},
}

// TestConvCPUGradients checks the CPU backward against finite differences
// of loss = sum(y * g) in float64.
func TestConvCPUGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range oddConvs {
		t.Run(tc.name, func(t *testing.T) {
			c, in := tc.c, tc.in
			o := c.OutShape(in)
			x := randSlice[float64](rng, in.Len())
			w := randSlice[float64](rng, c.WeightLen())
			var b, db []float64
			if c.Bias {
				b, db = randSlice[float64](rng, c.Out), make([]float64, c.Out)
			}
			g := randSlice[float64](rng, o.Len())
			y := make([]float64, o.Len())
			loss := func() float64 { ConvForward(c, in, x, w, b, y); return dot(y, g) }
			dx, dw := make([]float64, in.Len()), make([]float64, c.WeightLen())
			ConvBackwardData(c, in, w, g, dx)
			ConvBackwardWeights(c, in, x, g, dw, db)
			checkGrad(t, "dx", x, dx, loss, 1e-6)
			checkGrad(t, "dw", w, dw, loss, 1e-6)
			if c.Bias {
				checkGrad(t, "db", b, db, loss, 1e-6)
			}
		})
	}
}

// runConvGPU runs the three passes of version v on the GPU and compares
// each with the CPU reference.
func runConvGPU(t *testing.T, m *gpu.Manager, rng *rand.Rand, tc convCase, v ConvVersion) {
	g, err := NewConvGPU(m, tc.c, tc.in, v)
	require.NoError(t, err)
	runConvGPUWith(t, m, rng, tc, g)
}

func runConvGPUWith(t *testing.T, m *gpu.Manager, rng *rand.Rand, tc convCase, g *ConvGPU) {
	c, in := tc.c, tc.in
	o := g.Out
	x, w := testgpu.Rand(rng, in.Len()), testgpu.Rand(rng, c.WeightLen())
	b := testgpu.Rand(rng, c.Out)
	dy := testgpu.Rand(rng, o.Len())
	xb, wb, bb, dyb := testgpu.Upload(t, m, x), testgpu.Upload(t, m, w), testgpu.Upload(t, m, b), testgpu.Upload(t, m, dy)
	yb, dxb := testgpu.Poisoned(t, m, o.Len()), testgpu.Poisoned(t, m, in.Len())
	dwb, dbb := testgpu.Poisoned(t, m, c.WeightLen()), testgpu.Poisoned(t, m, c.Out)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	defer s.Close()
	g.Forward(s, xb, wb, bb, yb)
	g.BackwardData(s, dyb, wb, dxb)
	g.BackwardWeights(s, xb, dyb, dwb, dbb)
	require.NoError(t, s.Submit())

	var bias, db []float32
	if c.Bias {
		bias, db = b, make([]float32, c.Out)
	}
	y, dx, dw := make([]float32, o.Len()), make([]float32, in.Len()), make([]float32, c.WeightLen())
	ConvForward(c, in, x, w, bias, y)
	ConvBackwardData(c, in, w, dy, dx)
	ConvBackwardWeights(c, in, x, dy, dw, db)
	testgpu.Close(t, "forward", testgpu.Download(t, yb, o.Len()), y, 1e-4)
	testgpu.Close(t, "backward data", testgpu.Download(t, dxb, in.Len()), dx, 1e-4)
	testgpu.Close(t, "backward weights", testgpu.Download(t, dwb, c.WeightLen()), dw, 1e-4)
	if c.Bias {
		testgpu.Close(t, "backward bias", testgpu.Download(t, dbb, c.Out), db, 1e-4)
	}
}

func TestConvGPU(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(13, 14))
	versions := []ConvVersion{ConvV1, ConvV2}
	// v3 and v4 number their tiles by subgroup and lane, so they need the
	// device to run the shader at the subgroup size it reports: CPU devices
	// do (their SIMD width), some GPUs (Intel) may choose another. They are
	// tested where they are the default.
	if DefaultConvVersion(m.Info()) >= ConvV3 {
		versions = append(versions, ConvV3, ConvV4)
	} else {
		t.Logf("conv v3 not tested on %s: not its default", m.Info().Name)
	}
	for _, v := range versions {
		// v1 is slow: the odd shapes and one ResNet shape suffice for it.
		cases := append(append([]convCase{}, oddConvs...), resnetConvs[4])
		if v != ConvV1 {
			cases = append(append(append(append([]convCase{}, oddConvs...), vecConvs...), resnetConvs...), wideConvs...)
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("v%d/%s", v, tc.name), func(t *testing.T) { runConvGPU(t, m, rng, tc, v) })
		}
	}
}

// TestVecRows checks which passes take conv_v3's vec4 row path.
func TestVecRows(t *testing.T) {
	tl := DefaultTiles
	for _, tc := range []struct {
		name   string
		c      Conv2D
		in     Shape
		sg     int
		fwd, d bool // forward, data gradient
	}{
		{"16x32x32", resnetConvs[0].c, resnetConvs[0].in, 8, true, true},
		{"64x8x8", resnetConvs[2].c, resnetConvs[2].in, 8, true, true},
		{"16to32s2", resnetConvs[3].c, resnetConvs[3].in, 8, true, true},
		{"32to64s2", resnetConvs[4].c, resnetConvs[4].in, 8, true, true},
		{"s2, subgroup 1", resnetConvs[3].c, resnetConvs[3].in, 1, false, false},
		{"s2, width 48: 3 tiles a row", resnetConvs[3].c, Shape{1, 16, 48, 48}, 8, false, false},
		{"subgroup 4, 4 tiles a row", resnetConvs[0].c, resnetConvs[0].in, 4, true, true},
		{"subgroup 2, 4 tiles a row", resnetConvs[0].c, resnetConvs[0].in, 2, false, false},
		{"width 12", vecConvs[0].c, Shape{1, 5, 12, 12}, 8, false, false},
		{"width 24: 3 tiles a row", vecConvs[0].c, Shape{1, 5, 24, 24}, 8, false, false},
		{"padding 0", Conv2D{In: 2, Out: 2, Kernel: 3, Stride: 1}, Shape{1, 2, 18, 18}, 8, false, false},
		{"5x5", Conv2D{In: 2, Out: 2, Kernel: 5, Stride: 1, Pad: 2}, Shape{1, 2, 16, 16}, 8, false, false},
	} {
		o := tc.c.OutShape(tc.in)
		fwd := tl.vecRows(tc.c, tc.in, o, tc.c.Stride, tc.sg)
		d := tc.c.Stride == 1 && tl.vecRows(tc.c, o, tc.in, 1, tc.sg) || tl.vecRowsStrided(tc.c, o, tc.in, tc.sg)
		if fwd != tc.fwd || d != tc.d {
			t.Errorf("%s: forward %v, data gradient %v; want %v, %v", tc.name, fwd, d, tc.fwd, tc.d)
		}
	}
}

// TestConvV1LoopLimit: on lavapipe a naive convolution whose loops would
// pass the loop limit is refused rather than silently cut short (with the
// check off, 650 channels gave a data gradient 6% off), and one just
// inside it is right.
func TestConvV1LoopLimit(t *testing.T) {
	m := testgpu.Open(t)
	_, err := NewConvGPU(m, Conv2D{In: 8, Out: 650, Kernel: 9, Stride: 1, Pad: 4}, Shape{1, 8, 9, 9}, ConvV1)
	if m.Info().Type != "cpu" {
		require.NoError(t, err)
		return
	}
	require.ErrorContains(t, err, "past lavapipe's 65535")
	c := convCase{"9x9 to 600", Conv2D{In: 2, Out: 600, Kernel: 9, Stride: 1, Pad: 4}, Shape{1, 2, 9, 9}}
	runConvGPU(t, m, rand.New(rand.NewPCG(15, 16)), c, ConvV1) // just inside the limit: right
}

// TestConvVersionFromEnv: VKNN_CONV chooses the default version (CI runs
// the model tests with v2, v3 and v4); a value that names none is an error
// (it used to fall silently to the default).
func TestConvVersionFromEnv(t *testing.T) {
	d := gpu.DeviceInfo{Type: "cpu", SubgroupShuffle: true, SubgroupSize: 8}
	for env, want := range map[string]ConvVersion{"v1": ConvV1, "v2": ConvV2, "v3": ConvV3, "v4": ConvV4} {
		t.Setenv("VKNN_CONV", env)
		require.Equal(t, want, DefaultConvVersion(d), env)
	}
	t.Setenv("VKNN_CONV", "")
	require.Equal(t, ConvV4, DefaultConvVersion(d))
	require.Equal(t, ConvV2, DefaultConvVersion(gpu.DeviceInfo{Type: "discrete", SubgroupShuffle: true, SubgroupSize: 32}))
	v, err := EnvConvVersion()
	require.NoError(t, err)
	require.Zero(t, v)
	for _, bad := range []string{"v9", "V3", "3", "v0", "v33", " v2"} {
		t.Setenv("VKNN_CONV", bad)
		_, err := EnvConvVersion()
		require.ErrorContains(t, err, "want v1, v2, v3 or v4", bad)
	}
}
