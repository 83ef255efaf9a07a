package layers

import (
	"fmt"
	"os"

	"github.com/vknn/vknn/gpu"
)

// ConvVersion selects a convolution implementation on the GPU.
type ConvVersion int

// The convolution versions. V1 is the naive one-invocation-per-output
// reference; V2 the register-tiled kernels; V3 the same tiles with the
// loads a subgroup shares made once and passed by subgroup shuffles, for
// devices that load lane by lane (CPUs); V4 is V3 with the forward pass
// and data gradient of 3x3, stride-1, padding-1 convolutions by Winograd
// F(2x2, 3x3). DefaultConvVersion picks one.
const (
	ConvV1 ConvVersion = 1
	ConvV2 ConvVersion = 2
	ConvV3 ConvVersion = 3
	ConvV4 ConvVersion = 4
)

// DefaultConvVersion is the fastest version for device d: V4 on CPU
// devices (lavapipe) with subgroup shuffles, V2 elsewhere. VKNN_CONV=v1,
// v2, v3 or v4 in the environment chooses instead (CI runs the tests with
// v2, v3 and v4 on lavapipe); EnvConvVersion tells whether it names one.
func DefaultConvVersion(d gpu.DeviceInfo) ConvVersion {
	if v, err := EnvConvVersion(); err == nil && v != 0 {
		return v
	}
	if d.Type == "cpu" && d.SubgroupShuffle && d.SubgroupSize >= 4 && DefaultTiles.Local%int(d.SubgroupSize) == 0 {
		return ConvV4
	}
	return ConvV2
}

// EnvConvVersion is the version VKNN_CONV asks for: 0 where it is unset
// or empty, an error where it names no version.
func EnvConvVersion() (ConvVersion, error) {
	switch e := os.Getenv("VKNN_CONV"); e {
	case "":
		return 0, nil
	case "v1", "v2", "v3", "v4":
		return ConvVersion(e[1] - '0'), nil
	default:
		return 0, fmt.Errorf("VKNN_CONV=%q: want v1, v2, v3 or v4 (or unset, for the device's default)", e)
	}
}

// ConvGPU records a convolution of one shape into sequences. It owns the
// scratch buffer its weight gradient needs, allocated once.
type ConvGPU struct {
	Conv    Conv2D
	In, Out Shape
	Version ConvVersion

	fwd, dgrad, wgrad, reduce, bias *gpu.Kernel
	push                            []uint32 // v1 kernels
	fwdPush, dgradPush, wgradPush   []uint32 // v2 kernels
	fwdGroups, dgradGroups          gpu.Groups
	dgradPar                        []*gpu.Kernel // strided data gradient, by remainder
	dgradParGroups                  []gpu.Groups
	wgradGroups                     gpu.Groups
	parts                           int // partial sums of dw
	partial                         *gpu.Buffer
	wino                            *winoGPU // v4: forward and data gradient by Winograd, where it applies
}

// MaxTiledKernel and MaxTiledStride bound what the tiled versions (v2,
// v3) take: each invocation keeps Kernel² sums per channel pair in
// registers, and beyond 5x5 they spill (an 11x11 weight gradient ran for
// minutes on lavapipe); the strided data gradient takes Stride² pipelines.
// Other convolutions take v1, whatever version is asked for.
const (
	MaxTiledKernel = 5
	MaxTiledStride = 4
)

// NewConvGPU prepares the kernels and scratch for conv c on inputs of
// shape in, with version v (v1 past MaxTiledKernel or MaxTiledStride).
func NewConvGPU(m *gpu.Manager, c Conv2D, in Shape, v ConvVersion) (*ConvGPU, error) {
	if c.Kernel > MaxTiledKernel || c.Stride > MaxTiledStride {
		v = ConvV1
	}
	// v3 and v4 read their inputs through texel bindings: v2 where the
	// device's texel views cannot hold them.
	if v >= ConvV3 && c.Check(in) == nil && uint64(4*max(in.Len(), c.OutShape(in).Len())) > m.Info().MaxTexelBytes {
		v = ConvV2
	}
	return newConvGPU(m, c, in, v, DefaultTiles)
}

func newConvGPU(m *gpu.Manager, c Conv2D, in Shape, v ConvVersion, t ConvTiles) (*ConvGPU, error) {
	if err := c.Check(in); err != nil {
		return nil, err
	}
	o := c.OutShape(in)
	g := &ConvGPU{Conv: c, In: in, Out: o, Version: v}
	hasBias := 0
	if c.Bias {
		hasBias = 1
	}
	ks := &kernels{m: m}
	g.bias = ks.get("channel_sum", "rw", 3)
	g.reduce = ks.get("reduce_partials", "rw", 2)
	switch v {
	case ConvV1:
		if trips := v1Trips(c, o); m.Info().Type == "cpu" && trips > loopLimit {
			return nil, fmt.Errorf("layers: conv %+v on %v: the naive kernels would loop %d times per invocation, past lavapipe's %d", c, in, trips, loopLimit)
		}
		g.push = u32(in.N, in.C, in.H, in.W, o.C, o.H, o.W, c.Kernel, c.Stride, c.Pad, hasBias, 0)
		g.fwd = ks.get("conv_v1_fwd", "rrrw", 12)
		g.dgrad = ks.get("conv_v1_dgrad", "rrw", 12)
		g.wgrad = ks.get("conv_v1_wgrad", "rrw", 12)
		g.fwdGroups, g.dgradGroups = flat(o.Len(), 64), flat(in.Len(), 64)
		g.parts = in.N
		g.wgradGroups = gpu.Groups{flat(c.WeightLen(), 64)[0], uint32(in.N), 1}
	case ConvV2, ConvV3, ConvV4:
		sg := 0
		if v >= ConvV3 {
			sg = int(m.Info().SubgroupSize)
			if sg == 0 || t.Local%sg != 0 {
				return nil, fmt.Errorf("layers: conv v3 needs subgroups that divide the workgroup of %d (subgroup size %d)", t.Local, sg)
			}
		}
		if v == ConvV4 && t.winoFits(c, in) {
			var err error
			if g.wino, err = newWinoGPU(ks, m, c, in, t, sg, hasBias); err != nil {
				return nil, err
			}
		} else {
			g.tiled(ks, t, sg, hasBias)
		}
		if v >= ConvV3 {
			g.wgradV3(ks, t, sg)
		} else {
			g.wgradV2(ks, t)
		}
	default:
		return nil, fmt.Errorf("layers: unknown conv version %d", v)
	}
	if ks.err != nil {
		return nil, ks.err
	}
	var err error
	g.partial, err = m.NewBuffer(uint64(4 * g.parts * c.WeightLen()))
	return g, err
}

// loopLimit is where lavapipe stops an invocation's loops, silently
// (docs/perf.md).
const loopLimit = 65535

// v1Trips is the loop iterations of one invocation of the v1 kernels as
// lavapipe counts them: every iteration of every loop and each loop's
// exit. (Measured: a 9x9 data gradient over 600 output channels, 60,601,
// is right; over 650, 65,651, wrong.)
func v1Trips(c Conv2D, o Shape) int {
	taps := (c.Kernel+1)*(c.Kernel+1) + 1 // an outer iteration: the kernel rows' and columns' loops
	return max(c.In*taps, c.Out*taps, o.H*(o.W+2)) + 1
}

// tiled sets up the forward and data-gradient kernels of v2 (sg = 0) or
// v3 (sg = the subgroup size).
func (g *ConvGPU) tiled(ks *kernels, t ConvTiles, sg, hasBias int) {
	c, in, o := g.Conv, g.In, g.Out
	name, access := "conv_v2", "rrrw"
	if sg > 0 {
		name, access = "conv_v3", "rrrwt" // binding 4: the input again, as texels
	}
	S := uint32(c.Stride)
	g.fwd = ks.get(name, access, 9, t.spec(c, in, o, sg, S, 0)...)
	g.fwdPush = u32(in.N, in.C, in.H, in.W, o.C, o.H, o.W, c.Pad, hasBias)
	g.fwdGroups = t.groups(o)
	g.dgradPush = u32(in.N, o.C, o.H, o.W, in.C, in.H, in.W, c.Pad, 0)
	switch {
	case c.Stride == 1 && c.Pad <= c.Kernel-1:
		g.dgrad = ks.get(name, access, 9, t.spec(c, o, in, sg, 1, 1)...)
		g.dgradPush[7] = uint32(c.Kernel - 1 - c.Pad)
		g.dgradGroups = t.groups(in)
	case sg > 0 && t.vecRowsStrided(c, o, in, sg):
		// All four remainders in one pass (conv_v3 MODE 3), tiles of TP
		// dy columns (2 x 2TP dx values) and TK/2 channels: four sets of
		// accumulators, twice the other passes' (measured best,
		// docs/perf.md).
		t3 := t
		t3.TK = max(4, t.TK/2/4*4)
		g.dgrad = ks.get(name, access, 9, t3.spec(c, o, in, sg, S, 3)...)
		g.dgradGroups = t3.groups(Shape{in.N, in.C, in.H / 2, in.W / 2})
	default:
		// One pipeline per remainder of the output row and column modulo
		// the stride: each meets a fixed subset of the taps.
		for rp := range c.Stride {
			for cp := range c.Stride {
				sp := t.spec(c, o, in, sg, S, 2, uint32(rp), uint32(cp), uint32(c.Pad))
				g.dgradPar = append(g.dgradPar, ks.get(name, access, 9, sp...))
				rows := max(0, (in.H-rp+c.Stride-1)/c.Stride)
				cols := max(0, (in.W-cp+c.Stride-1)/c.Stride)
				tiles := in.N * rows * ((cols + t.TP - 1) / t.TP)
				g.dgradParGroups = append(g.dgradParGroups,
					gpu.Groups{flat(max(tiles, 1), t.Local)[0], uint32((in.C + t.TK - 1) / t.TK), 1})
			}
		}
	}
}

// wgradV2 sets up conv_v2_wgrad: an invocation per block of WTK x WTC
// channels and chunk of rows.
func (g *ConvGPU) wgradV2(ks *kernels, t ConvTiles) {
	c, in, o := g.Conv, g.In, g.Out
	g.wgrad = ks.get("conv_v2_wgrad", "rrw", 9, uint32(t.Local), uint32(t.WTK), uint32(t.WTC), uint32(t.WTP),
		uint32(c.Kernel), uint32(c.Stride))
	tiles := (o.W + t.WTP - 1) / t.WTP
	rows := max(1, t.Rows/tiles)
	g.parts = (in.N*o.H + rows - 1) / rows
	g.wgradPush = u32(in.N, in.C, in.H, in.W, o.C, o.H, o.W, c.Pad, rows)
	g.wgradGroups = gpu.Groups{flat(pairs(c, t.WTK, t.WTC), t.Local)[0], uint32(g.parts), 1}
}

// wgradV3 sets up conv_v3_wgrad: a subgroup per block of SWTK x SWTC
// channels and chunk of t.Chunk row segments.
func (g *ConvGPU) wgradV3(ks *kernels, t ConvTiles, sg int) {
	c, in, o := g.Conv, g.In, g.Out
	g.wgrad = ks.get("conv_v3_wgrad", "rrwtt", 9, uint32(t.Local), uint32(t.SWTK), uint32(t.SWTC), uint32(t.WTP),
		uint32(c.Kernel), uint32(c.Stride), uint32(sg), boolSpec(t.vecRows(c, in, o, c.Stride, sg)))
	chunk := max(sg, t.Chunk/sg*sg)
	tiles := o.N * o.H * ((o.W + t.WTP - 1) / t.WTP)
	g.parts = (tiles + chunk - 1) / chunk
	g.wgradPush = u32(in.N, in.C, in.H, in.W, o.C, o.H, o.W, c.Pad, chunk)
	g.wgradGroups = gpu.Groups{flat(pairs(c, t.SWTK, t.SWTC), t.Local/sg)[0], uint32(g.parts), 1}
}

// Forward records y = conv(x, w) + b; b is ignored without Conv.Bias.
func (g *ConvGPU) Forward(s *gpu.Sequence, x, w, b, y gpu.Arg) {
	if !g.Conv.Bias {
		b = w // bound but not read
	}
	if g.Version == ConvV1 {
		s.Dispatch(g.fwd, g.fwdGroups, g.push, x, w, b, y)
		return
	}
	if g.wino != nil {
		g.wino.forward(s, x, w, b, y)
		return
	}
	g.dispatchTiled(s, g.fwd, g.fwdGroups, g.fwdPush, x, w, b, y)
}

// dispatchTiled records a v2 or v3 forward or data-gradient pass from
// src; v3 reads src a second time, as texels.
func (g *ConvGPU) dispatchTiled(s *gpu.Sequence, k *gpu.Kernel, groups gpu.Groups, push []uint32, src, w, b, dst gpu.Arg) {
	if g.Version >= ConvV3 {
		s.Dispatch(k, groups, push, src, w, b, dst, src)
		return
	}
	s.Dispatch(k, groups, push, src, w, b, dst)
}

// BackwardData records dx from dy.
func (g *ConvGPU) BackwardData(s *gpu.Sequence, dy, w, dx gpu.Arg) {
	if g.Version == ConvV1 {
		s.Dispatch(g.dgrad, g.dgradGroups, g.push, dy, w, dx)
		return
	}
	if g.wino != nil {
		g.wino.backwardData(s, dy, w, dx)
		return
	}
	for i, k := range g.dgradPar {
		g.dispatchTiled(s, k, g.dgradParGroups[i], g.dgradPush, dy, w, w, dx)
	}
	if g.dgradPar == nil {
		g.dispatchTiled(s, g.dgrad, g.dgradGroups, g.dgradPush, dy, w, w, dx)
	}
}

// BackwardWeights records dw (and db with Conv.Bias) from x and dy.
func (g *ConvGPU) BackwardWeights(s *gpu.Sequence, x, dy, dw, db gpu.Arg) {
	push := g.wgradPush
	if g.Version == ConvV1 {
		push = g.push
	}
	if g.Version >= ConvV3 {
		s.Dispatch(g.wgrad, g.wgradGroups, push, x, dy, g.partial, x, dy)
	} else {
		s.Dispatch(g.wgrad, g.wgradGroups, push, x, dy, g.partial)
	}
	n := g.Conv.WeightLen()
	s.Dispatch(g.reduce, flat(n, 64), u32(n, g.parts), g.partial, dw)
	if g.Conv.Bias {
		s.Dispatch(g.bias, gpu.Groups{uint32(g.Out.C), 1, 1}, u32(g.Out.N, g.Out.C, g.Out.Plane()), dy, db)
	}
}

func (v ConvVersion) String() string { return fmt.Sprintf("v%d", int(v)) }

// Free releases the weight gradient's scratch buffer.
func (g *ConvGPU) Free() {
	if g.partial != nil {
		g.partial.Free()
	}
	if g.wino != nil {
		g.wino.free()
	}
}
