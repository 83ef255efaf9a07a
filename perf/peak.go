package perf

import (
	"fmt"
	"math"
	"time"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/shaders"
)

// Peak is a device's measured ceilings.
type Peak struct {
	Device         string  `json:"device"`
	FMAGFlops      float64 `json:"fma_gflops"`     // fp32, independent vec4 FMA chains
	CopyGBs        float64 `json:"copy_gbs"`       // device-memory copy, bytes read + written
	TexelCopyGBs   float64 `json:"texel_copy_gbs"` // the same copy reading a uniform texel buffer
	SubmitUs       float64 `json:"submit_us"`      // empty submit + fence wait round trip
	DispatchUs     float64 `json:"dispatch_us"`    // one more dependent dispatch in a sequence
	CopyBytes      uint64  `json:"copy_bytes"`     // size of the copied buffer
	FMAInvocations int     `json:"fma_invocations"`
}

// PeakSize scales the measurement: "full" for real figures, "tiny" for a
// quick run that only proves the path works (CI).
type PeakSize struct {
	Groups    int    // FMA workgroups of 256
	Iters     uint32 // FMA steps per invocation (rounded up to a multiple of 8)
	CopyBytes uint64
	Reps      int
}

// Full and Tiny are the two PeakSizes the bench command offers.
var (
	Full = PeakSize{Groups: 512, Iters: 4096, CopyBytes: 64 << 20, Reps: 7}
	Tiny = PeakSize{Groups: 4, Iters: 64, CopyBytes: 1 << 20, Reps: 2}
)

const peakLocal = 256

// copySpec is the vec4 copy kernel, for bandwidth and dispatch costs.
var copySpec = gpu.KernelSpec{Name: "peak_copy", Code: shaders.Code("peak_copy"),
	Access: "rw", PushBytes: 4, Spec: []uint32{peakLocal}}

// texelCopySpec is the copy reading through a texel buffer.
var texelCopySpec = gpu.KernelSpec{Name: "peak_copy_texel", Code: shaders.Code("peak_copy_texel"),
	Access: "tw", PushBytes: 4, Spec: []uint32{peakLocal}}

// MeasurePeak measures m's ceilings.
func MeasurePeak(m *gpu.Manager, size PeakSize) (Peak, error) {
	p := Peak{Device: m.Info().Name, CopyBytes: size.CopyBytes, FMAInvocations: size.Groups * peakLocal}
	var err error
	if p.FMAGFlops, err = measureFMA(m, size); err != nil {
		return p, fmt.Errorf("fma: %w", err)
	}
	if p.CopyGBs, err = measureCopy(m, size, copySpec); err != nil {
		return p, fmt.Errorf("copy: %w", err)
	}
	if p.TexelCopyGBs, err = measureCopy(m, size, texelCopySpec); err != nil {
		return p, fmt.Errorf("texel copy: %w", err)
	}
	if p.SubmitUs, p.DispatchUs, err = measureOverheads(m, size.Reps*10); err != nil {
		return p, fmt.Errorf("overheads: %w", err)
	}
	return p, nil
}

func measureFMA(m *gpu.Manager, size PeakSize) (float64, error) {
	k, err := m.Kernel(gpu.KernelSpec{Name: "peak_fma", Code: shaders.Code("peak_fma"),
		Access: "w", PushBytes: 8, Spec: []uint32{peakLocal}})
	if err != nil {
		return 0, err
	}
	n := size.Groups * peakLocal
	out, err := m.NewBuffer(uint64(16 * n))
	if err != nil {
		return 0, err
	}
	defer out.Free()
	s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	iters := (size.Iters + 7) / 8 * 8 // the shader runs 8 steps a loop iteration
	s.Dispatch(k, gpu.Groups{uint32(size.Groups), 1, 1}, []uint32{iters, math.Float32bits(0.999)}, out)
	ns, err := Sample(s, 1, size.Reps)
	if err != nil {
		return 0, err
	}
	// Check a result so that a broken shader cannot pass for a fast one.
	got := make([]float32, 4)
	if err := out.ReadFloat32(got); err != nil {
		return 0, err
	}
	if math.IsNaN(float64(got[0])) || got[0] == 0 {
		return 0, fmt.Errorf("the FMA kernel produced %v", got[0])
	}
	flops := float64(n) * float64(iters) * 8 * 4 * 2
	return flops / ns, nil
}

func measureCopy(m *gpu.Manager, size PeakSize, spec gpu.KernelSpec) (float64, error) {
	k, err := m.Kernel(spec)
	if err != nil {
		return 0, err
	}
	src, err := m.NewBuffer(size.CopyBytes)
	if err != nil {
		return 0, err
	}
	defer src.Free()
	dst, err := m.NewBuffer(size.CopyBytes)
	if err != nil {
		return 0, err
	}
	defer dst.Free()
	s, err := m.NewSequence(gpu.SequenceOptions{Timestamps: true})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	s.Fill(src, math.Float32bits(1.5))
	s.Barrier()
	n := int(size.CopyBytes / 16)
	s.Section("copy")
	s.Dispatch(k, gpu.Groups{min(gpu.Grid(n, peakLocal), 65535), 1, 1}, []uint32{uint32(n)}, src, dst)
	if err := s.Submit(); err != nil {
		return 0, err
	}
	var times []float64
	for range size.Reps {
		if err := s.Submit(); err != nil {
			return 0, err
		}
		tim, err := s.Timings()
		if err != nil {
			return 0, err
		}
		for _, t := range tim {
			if t.Section == "copy" {
				times = append(times, t.Ns)
			}
		}
	}
	if len(times) == 0 {
		return 0, fmt.Errorf("%s has no timestamps", m.Info().Name)
	}
	return 2 * float64(size.CopyBytes) / Median(times), nil
}

// measureOverheads times an empty submit and a chain of 101 tiny dependent
// dispatches against a single one, on the host clock.
func measureOverheads(m *gpu.Manager, reps int) (submitUs, dispatchUs float64, err error) {
	k, err := m.Kernel(copySpec)
	if err != nil {
		return 0, 0, err
	}
	buf, err := m.NewBuffer(1024)
	if err != nil {
		return 0, 0, err
	}
	defer buf.Free()
	chain := func(n int) (float64, error) {
		s, err := m.NewSequence(gpu.SequenceOptions{})
		if err != nil {
			return 0, err
		}
		defer s.Close()
		for i := range n {
			a, b := buf.Slice(0, 512), buf.Slice(512, 512)
			if i%2 == 1 {
				a, b = b, a
			}
			s.Dispatch(k, gpu.Groups{1, 1, 1}, []uint32{32}, a, b)
		}
		if err := s.Submit(); err != nil {
			return 0, err
		}
		times := make([]float64, reps)
		for i := range times {
			t0 := time.Now()
			if err := s.Submit(); err != nil {
				return 0, err
			}
			times[i] = float64(time.Since(t0).Nanoseconds())
		}
		return Median(times), nil
	}
	empty, err := chain(0)
	if err != nil {
		return 0, 0, err
	}
	one, err := chain(1)
	if err != nil {
		return 0, 0, err
	}
	many, err := chain(101)
	if err != nil {
		return 0, 0, err
	}
	return empty / 1e3, (many - one) / 100 / 1e3, nil
}
