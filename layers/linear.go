package layers

import (
	"math"

	"github.com/vknn/vknn/gpu"
)

// Linear is y = x W^T + b for x of N x In, W of Out x In (PyTorch's layout).
type Linear struct{ In, Out int }

// LinearForward computes y on the CPU.
func LinearForward[T Float](l Linear, n int, x, w, b, y []T) {
	for i := 0; i < n; i++ {
		for o := 0; o < l.Out; o++ {
			s := b[o]
			for j := 0; j < l.In; j++ {
				s += x[i*l.In+j] * w[o*l.In+j]
			}
			y[i*l.Out+o] = s
		}
	}
}

// LinearBackward computes dx, dw and db from dy on the CPU.
func LinearBackward[T Float](l Linear, n int, x, w, dy, dx, dw, db []T) {
	for i := range dx[:n*l.In] {
		dx[i] = 0
	}
	for i := range dw[:l.Out*l.In] {
		dw[i] = 0
	}
	for o := range db[:l.Out] {
		db[o] = 0
	}
	for i := 0; i < n; i++ {
		for o := 0; o < l.Out; o++ {
			g := dy[i*l.Out+o]
			db[o] += g
			for j := 0; j < l.In; j++ {
				dx[i*l.In+j] += g * w[o*l.In+j]
				dw[o*l.In+j] += g * x[i*l.In+j]
			}
		}
	}
}

// LinearGPU records a linear layer for batches of N.
type LinearGPU struct {
	L               Linear
	N               int
	fwd, bwdX, bwdW *gpu.Kernel
	push            []uint32
}

// NewLinearGPU prepares the kernels.
func NewLinearGPU(m *gpu.Manager, l Linear, n int) (*LinearGPU, error) {
	ks := &kernels{m: m}
	g := &LinearGPU{L: l, N: n, push: u32(n, l.In, l.Out)}
	g.fwd = ks.get("linear", "rrrww", 3, 0)
	g.bwdX = ks.get("linear", "rrrww", 3, 1)
	g.bwdW = ks.get("linear", "rrrww", 3, 2)
	return g, ks.err
}

// Forward records y = x W^T + b.
func (g *LinearGPU) Forward(s *gpu.Sequence, x, w, b, y gpu.Arg) {
	s.Dispatch(g.fwd, flat(g.N*g.L.Out, 64), g.push, x, w, b, y, y)
}

// Backward records dx, dw and db from dy.
func (g *LinearGPU) Backward(s *gpu.Sequence, x, w, dy, dx, dw, db gpu.Arg) {
	s.Dispatch(g.bwdX, flat(g.N*g.L.In, 64), g.push, dy, w, w, dx, dx)
	s.Dispatch(g.bwdW, flat(g.L.Out*g.L.In, 64), g.push, x, dy, dy, dw, db)
}

// SoftmaxCE computes the mean softmax cross-entropy of n rows of logits z
// (each of length k) against labels, its gradient dz, and the number of
// rows whose largest logit is the label.
func SoftmaxCE[T Float](n, k int, z []T, labels []int32, dz []T) (loss T, correct int) {
	var total float64
	for i := 0; i < n; i++ {
		row := z[i*k:][:k]
		m, arg := row[0], 0
		for j, v := range row {
			if v > m {
				m, arg = v, j
			}
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - m))
		}
		lse := float64(m) + math.Log(sum)
		for j, v := range row {
			p := math.Exp(float64(v) - lse)
			if j == int(labels[i]) {
				p--
			}
			dz[i*k+j] = T(p / float64(n))
		}
		total += lse - float64(row[labels[i]])
		if arg == int(labels[i]) {
			correct++
		}
	}
	return T(total / float64(n)), correct
}

// SoftmaxCEGPU records the loss for batches of N rows of K logits; out[0]
// receives the mean loss and out[1] the count of correct rows.
type SoftmaxCEGPU struct {
	N, K int
	k    *gpu.Kernel
}

// NewSoftmaxCEGPU prepares the kernel.
func NewSoftmaxCEGPU(m *gpu.Manager, n, k int) (*SoftmaxCEGPU, error) {
	kk, err := kernel(m, "softmax_ce", "rrww", 2)
	return &SoftmaxCEGPU{N: n, K: k, k: kk}, err
}

// Record records the loss, its gradient dz and the two scalars in out.
func (g *SoftmaxCEGPU) Record(s *gpu.Sequence, z, labels, dz, out gpu.Arg) {
	s.Dispatch(g.k, gpu.Groups{1, 1, 1}, u32(g.N, g.K), z, labels, dz, out)
}
