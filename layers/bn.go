package layers

import (
	"math"

	"github.com/vknn/vknn/gpu"
)

// BN is a batch norm's settings: Eps is added to the variance, and the
// running statistics move by Momentum towards each batch's (PyTorch's
// BatchNorm2d eps and momentum).
type BN struct{ Eps, Momentum float64 }

// DefaultBN is PyTorch's default: eps 1e-5, momentum 0.1.
var DefaultBN = BN{Eps: 1e-5, Momentum: 0.1}

// BNForwardTrain normalizes x (shape in) with its batch statistics,
// y = gamma*(x-mean)*invstd + beta, saves mean and invstd for the backward
// pass, and moves the running statistics by b.Momentum towards the batch
// mean and unbiased variance.
func BNForwardTrain[T Float](b BN, in Shape, x, gamma, beta, runMean, runVar, y, mean, invstd []T) {
	L, M := in.Plane(), in.N*in.Plane()
	for c := 0; c < in.C; c++ {
		var s float64
		for n := 0; n < in.N; n++ {
			for _, v := range x[(n*in.C+c)*L:][:L] {
				s += float64(v)
			}
		}
		mu := s / float64(M)
		var ss float64
		for n := 0; n < in.N; n++ {
			for _, v := range x[(n*in.C+c)*L:][:L] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		variance := ss / float64(M)
		mean[c], invstd[c] = T(mu), T(1/math.Sqrt(variance+b.Eps))
		unbiased := variance
		if M > 1 {
			unbiased = variance * float64(M) / float64(M-1)
		}
		runMean[c] = T((1-b.Momentum)*float64(runMean[c]) + b.Momentum*mu)
		runVar[c] = T((1-b.Momentum)*float64(runVar[c]) + b.Momentum*unbiased)
	}
	bnApply(in, x, gamma, beta, mean, invstd, y)
}

// BNForwardEval normalizes x with the running statistics.
func BNForwardEval[T Float](b BN, in Shape, x, gamma, beta, runMean, runVar, y []T) {
	mean, invstd := make([]T, in.C), make([]T, in.C)
	for c := range mean {
		mean[c], invstd[c] = runMean[c], T(1/math.Sqrt(float64(runVar[c])+b.Eps))
	}
	bnApply(in, x, gamma, beta, mean, invstd, y)
}

func bnApply[T Float](in Shape, x, gamma, beta, mean, invstd, y []T) {
	L := in.Plane()
	for i := range x[:in.Len()] {
		c := (i / L) % in.C
		y[i] = gamma[c]*(x[i]-mean[c])*invstd[c] + beta[c]
	}
}

// BNBackward is the training-mode gradient: from dy (the gradient at the
// output) it computes dx, dgamma and dbeta.
func BNBackward[T Float](in Shape, x, dy, gamma, mean, invstd, dx, dgamma, dbeta []T) {
	L, M := in.Plane(), T(in.N*in.Plane())
	for c := range dgamma[:in.C] {
		dgamma[c], dbeta[c] = 0, 0
	}
	for i := range x[:in.Len()] {
		c := (i / L) % in.C
		dbeta[c] += dy[i]
		dgamma[c] += dy[i] * (x[i] - mean[c]) * invstd[c]
	}
	for i := range x[:in.Len()] {
		c := (i / L) % in.C
		xhat := (x[i] - mean[c]) * invstd[c]
		dx[i] = gamma[c] * invstd[c] / M * (M*dy[i] - dbeta[c] - xhat*dgamma[c])
	}
}

// BNArgs are the buffers of a batch norm on the GPU. Res is read only with
// a residual; Mean and Invstd are written by the forward pass and read by
// the backward one.
type BNArgs struct {
	X, Y, Gamma, Beta, RunMean, RunVar, Mean, Invstd, Res gpu.Arg
}

// BNGrads are the gradient buffers of a batch norm. DRes, written only with
// a residual, receives the gradient of the residual input.
type BNGrads struct {
	DY, DX, DGamma, DBeta, DRes gpu.Arg
}

// BatchNormGPU records a training- or eval-mode batch norm of one shape,
// optionally fused with a residual add and a ReLU: y = relu(bn(x) + res).
type BatchNormGPU struct {
	In             Shape
	BN             BN
	Relu, Residual bool

	stats, eval, apply, bwdStats, bwdApply *gpu.Kernel
	push                                   []uint32
	applyGroups                            gpu.Groups // the apply kernels' grid
	texel                                  bool       // the vec4 paths read texel bindings
}

func boolSpec(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// elementGroups is the grid for grid-stride kernels of 256 over n items.
func elementGroups(n int) gpu.Groups {
	return gpu.Groups{uint32(min(max((n+255)/256, 1), 4096)), 1, 1}
}

// NewBatchNormGPU prepares the kernels for a batch norm with settings bn
// over inputs of shape in, fused with a residual add and a ReLU as asked.
func NewBatchNormGPU(m *gpu.Manager, in Shape, bn BN, relu, residual bool) (*BatchNormGPU, error) {
	// On CPU devices the vec4 paths read through texel bindings (lavapipe
	// gathers those with vector instructions, docs/perf.md), where the
	// device's views hold the tensor; elsewhere through storage buffers.
	texel := m.Info().Type == "cpu" && uint64(4*in.Len()) <= m.Info().MaxTexelBytes
	return newBatchNormGPU(m, in, bn, relu, residual, texel)
}

func newBatchNormGPU(m *gpu.Manager, in Shape, bn BN, relu, residual, texel bool) (*BatchNormGPU, error) {
	if err := in.Valid(); err != nil {
		return nil, err
	}
	b := &BatchNormGPU{In: in, BN: bn, Relu: relu, Residual: residual, push: u32(in.N, in.C, in.Plane())}
	ks := &kernels{m: m}
	r, res := boolSpec(relu), boolSpec(residual)
	vec4 := boolSpec(in.Plane()%4 == 0) // four elements a load where planes allow
	// The apply kernels take 4 vec4s of a plane a step where planes allow.
	v, items := 1, in.Len()
	if vec4 == 1 {
		if in.Plane()%16 == 0 {
			v = 4
		}
		items /= 4 * v
	}
	b.applyGroups = elementGroups(items)
	b.texel = texel
	tx := boolSpec(b.texel)
	b.stats = ks.get("bn_stats", "rwwbbt", 5, vec4, tx)
	b.eval = ks.get("bn_eval_stats", "rrww", 2)
	b.apply = ks.get("bn_apply", "rrrrrrwtt", 3, r, res, vec4, uint32(v), tx)
	b.bwdStats = ks.get("bn_bwd_stats", "rrrrrwwttt", 3, r, vec4, tx)
	b.bwdApply = ks.get("bn_bwd_apply", "rrrrrrrrwwttt", 3, r, res, vec4, uint32(v), tx)
	return b, ks.err
}

func f32(x float32) uint32 { return math.Float32bits(x) }

// ForwardTrain records the training-mode forward pass.
func (b *BatchNormGPU) ForwardTrain(s *gpu.Sequence, a BNArgs) {
	push := append(append([]uint32{}, b.push...), f32(float32(b.BN.Eps)), f32(float32(b.BN.Momentum)))
	s.Dispatch(b.stats, gpu.Groups{uint32(b.In.C), 1, 1}, push, a.X, a.Mean, a.Invstd, a.RunMean, a.RunVar, b.tex(a.X))
	b.applyStats(s, a)
}

// ForwardEval records the eval-mode forward pass (running statistics).
func (b *BatchNormGPU) ForwardEval(s *gpu.Sequence, a BNArgs) {
	s.Dispatch(b.eval, flat(b.In.C, 64), []uint32{uint32(b.In.C), f32(float32(b.BN.Eps))}, a.RunMean, a.RunVar, a.Mean, a.Invstd)
	b.applyStats(s, a)
}

func (b *BatchNormGPU) applyStats(s *gpu.Sequence, a BNArgs) {
	res := a.Res
	if !b.Residual {
		res = a.X // bound but not read
	}
	s.Dispatch(b.apply, b.applyGroups, b.push, a.X, a.Mean, a.Invstd, a.Gamma, a.Beta, res, a.Y, b.tex(a.X), b.tex(res))
}

// Backward records the training-mode backward pass.
func (b *BatchNormGPU) Backward(s *gpu.Sequence, a BNArgs, g BNGrads) {
	s.Dispatch(b.bwdStats, gpu.Groups{uint32(b.In.C), 1, 1}, b.push, a.X, a.Y, g.DY, a.Mean, a.Invstd, g.DGamma, g.DBeta,
		b.tex(a.X), b.tex(a.Y), b.tex(g.DY))
	dres := g.DRes
	if !b.Residual {
		dres = g.DX // bound but not written
	}
	s.Dispatch(b.bwdApply, b.applyGroups, b.push, a.X, a.Y, g.DY, a.Mean, a.Invstd, a.Gamma, g.DGamma, g.DBeta, g.DX, dres,
		b.tex(a.X), b.tex(a.Y), b.tex(g.DY))
}

// tex is what a texel binding gets: a, or where the kernels read storage
// buffers instead, its first vec4 (bound, not read).
func (b *BatchNormGPU) tex(a gpu.Arg) gpu.Arg {
	if b.texel {
		return a
	}
	return gpu.Head(a, 16)
}
