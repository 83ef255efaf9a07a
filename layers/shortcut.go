package layers

import "github.com/vknn/vknn/gpu"

// ShortcutA is the paper's option-A shortcut from In to Out channels:
// subsample by Stride, then pad with zero channels, (Out-In)/2 before and
// the rest after (the usual CIFAR ResNet implementation).
type ShortcutA struct{ In, Out, Stride int }

// OutShape is the output shape for input shape in.
func (a ShortcutA) OutShape(in Shape) Shape {
	return Shape{in.N, a.Out, (in.H + a.Stride - 1) / a.Stride, (in.W + a.Stride - 1) / a.Stride}
}

func (a ShortcutA) lo() int { return (a.Out - a.In) / 2 }

// ShortcutAForward computes y from x on the CPU.
func ShortcutAForward[T Float](a ShortcutA, in Shape, x, y []T) {
	o := a.OutShape(in)
	for i := range y[:o.Len()] {
		w, h, k, n := i%o.W, (i/o.W)%o.H, (i/o.Plane())%o.C, i/(o.Plane()*o.C)
		y[i] = 0
		if c := k - a.lo(); c >= 0 && c < in.C {
			y[i] = x[((n*in.C+c)*in.H+h*a.Stride)*in.W+w*a.Stride]
		}
	}
}

// ShortcutABackwardAdd adds the shortcut's input gradient to dx.
func ShortcutABackwardAdd[T Float](a ShortcutA, in Shape, dy, dx []T) {
	o := a.OutShape(in)
	for i := range dx[:in.Len()] {
		w, h, c, n := i%in.W, (i/in.W)%in.H, (i/in.Plane())%in.C, i/(in.Plane()*in.C)
		if h%a.Stride == 0 && w%a.Stride == 0 {
			dx[i] += dy[((n*o.C+c+a.lo())*o.H+h/a.Stride)*o.W+w/a.Stride]
		}
	}
}

// ShortcutAGPU records option-A shortcuts of one shape.
type ShortcutAGPU struct {
	A       ShortcutA
	In, Out Shape
	fwd     *gpu.Kernel
	bwd     *gpu.Kernel
	push    []uint32
}

// NewShortcutAGPU prepares the kernels for inputs of shape in.
func NewShortcutAGPU(m *gpu.Manager, a ShortcutA, in Shape) (*ShortcutAGPU, error) {
	o := a.OutShape(in)
	g := &ShortcutAGPU{A: a, In: in, Out: o,
		push: u32(in.N, in.C, in.H, in.W, o.C, o.H, o.W, a.lo(), a.Stride)}
	ks := &kernels{m: m}
	g.fwd = ks.get("shortcut_a", "rw", 9)
	g.bwd = ks.get("shortcut_a_bwd", "rb", 9)
	return g, ks.err
}

// Forward records y = shortcut(x).
func (g *ShortcutAGPU) Forward(s *gpu.Sequence, x, y gpu.Arg) {
	s.Dispatch(g.fwd, elementGroups(g.Out.N*g.Out.C*g.Out.H), g.push, x, y)
}

// BackwardAdd records dx += the shortcut's gradient from dy.
func (g *ShortcutAGPU) BackwardAdd(s *gpu.Sequence, dy, dx gpu.Arg) {
	s.Dispatch(g.bwd, elementGroups(g.In.N*g.In.C*g.Out.H), g.push, dy, dx)
}

// Add records y += a*x over n floats (the identity shortcut's backward,
// and residual sums).
type Add struct{ k *gpu.Kernel }

// NewAdd prepares the axpy kernel.
func NewAdd(m *gpu.Manager) (*Add, error) {
	k, err := kernel(m, "axpy", "rb", 2, 256)
	return &Add{k}, err
}

// Record records y += a*x over the first n floats.
func (a *Add) Record(s *gpu.Sequence, n int, alpha float32, x, y gpu.Arg) {
	s.Dispatch(a.k, elementGroups((n+3)/4), []uint32{uint32(n), f32(alpha)}, x, y)
}
