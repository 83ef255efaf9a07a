package layers

import "github.com/vknn/vknn/gpu"

// ConvTiles are the tile sizes of the v2 and v3 kernels (see shaders/conv_v[23]*.comp),
// set through specialization constants.
type ConvTiles struct {
	Local  int // invocations per workgroup
	TK     int // output channels per invocation (forward, data gradient); a multiple of 4
	TP     int // output columns per invocation
	CB     int // input channels staged per step
	WTK    int // v2 weight gradient: output channels per invocation; a multiple of 4
	WTC    int // v2 weight gradient: input channels per invocation
	SWTK   int // v3 weight gradient: output channels per subgroup; a multiple of 4
	SWTC   int // v3 weight gradient: input channels per subgroup
	WTP    int // weight gradient: output columns per step
	Rows   int // weight gradient: row segments per chunk (lavapipe's loop budget)
	Chunk  int // v3 weight gradient: row segments per chunk, a multiple of the subgroup size
	WinoTK int // v4 Winograd: output channels per invocation, a multiple of 4
	WinoTT int // v4 Winograd: 2x2 tiles per invocation, along a row pair
}

// DefaultTiles are the tile sizes chosen by measurement (docs/perf.md).
var DefaultTiles = ConvTiles{Local: 64, TK: 16, TP: 8, CB: 8, WTK: 8, WTC: 4, SWTK: 8, SWTC: 4, WTP: 8, Rows: 64, Chunk: 1024, WinoTK: 16, WinoTT: 2}

// spec is the specialization of conv_v2 (sg = 0) or conv_v3 for one pass
// from src to dst: mode 0 forward, 1 stride-1 data gradient, 2 strided
// data gradient for one remainder (par: row and column remainder,
// padding), 3 (v3) stride-2 data gradient in one pass. v3 adds the
// subgroup size and whether modes 0 and 1 read rows as vec4s.
func (t ConvTiles) spec(c Conv2D, src, dst Shape, sg int, stride, mode uint32, par ...uint32) []uint32 {
	sp := []uint32{uint32(t.Local), uint32(t.TK), uint32(t.TP), uint32(c.Kernel), stride, mode, uint32(t.CB), 0, 0, 0}
	copy(sp[7:], par)
	if sg == 0 {
		return sp[:7+len(par)]
	}
	// VEC is for modes 0 and 1; MODE 3 always reads vec4 rows (the host
	// picks it where vecRowsStrided holds), MODE 2 never.
	vec := mode < 2 && t.vecRows(c, src, dst, int(stride), sg)
	return append(sp, uint32(sg), boolSpec(vec))
}

// vecRows tells whether conv_v3 may read the input rows of a pass from
// src to dst as vec4s and take the columns beside a tile from the
// neighbouring lanes: a 3x3 kernel with padding 1, rows of whole vec4s,
// whole tiles, and a subgroup's tiles starting on a row.
func (t ConvTiles) vecRows(c Conv2D, src, dst Shape, stride, sg int) bool {
	if c.Kernel != 3 || c.Pad != 1 || stride > 2 || src.W != dst.W*stride || src.W%4 != 0 ||
		t.TP*stride%4 != 0 || dst.W%t.TP != 0 {
		return false
	}
	return sg%(dst.W/t.TP) == 0
}

// pairs is the number of (tk output, tc input) channel blocks of the
// weight gradient.
func pairs(c Conv2D, tk, tc int) int {
	return ((c.Out + tk - 1) / tk) * ((c.In + tc - 1) / tc)
}

// vecRowsStrided tells whether conv_v3 may compute the data gradient of a
// stride-2 3x3 convolution with padding 1, from dy (src) to dx (dst), in
// one pass (MODE 3): dx of even size, dy rows of whole vec4s and tiles, a
// subgroup's tiles starting on a row.
func (t ConvTiles) vecRowsStrided(c Conv2D, src, dst Shape, sg int) bool {
	if c.Kernel != 3 || c.Pad != 1 || c.Stride != 2 || dst.W%2 != 0 || dst.H%2 != 0 ||
		src.W != dst.W/2 || src.H != dst.H/2 ||
		src.W%4 != 0 || src.W%t.TP != 0 {
		return false
	}
	return sg%(src.W/t.TP) == 0
}

// groups is the v2 and v3 grid for output shape o: tiles of TP columns, Local
// tiles per workgroup in x, blocks of TK channels in y.
func (t ConvTiles) groups(o Shape) gpu.Groups {
	tiles := o.N * o.H * ((o.W + t.TP - 1) / t.TP)
	return gpu.Groups{flat(tiles, t.Local)[0], uint32((o.C + t.TK - 1) / t.TK), 1}
}
