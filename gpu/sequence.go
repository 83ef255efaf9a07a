package gpu

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Arg is a storage-buffer argument of a dispatch: a whole *Buffer or a
// Slice of one.
type Arg interface {
	region() Slice
}

// Slice is a byte range of a Buffer, bound as one storage buffer.
type Slice struct {
	Buf       *Buffer
	Off, Size uint64
}

func (s Slice) region() Slice   { return s }
func (b *Buffer) region() Slice { return Slice{b, 0, b.size} }

// Slice returns the byte range [off, off+size) of b.
func (b *Buffer) Slice(off, size uint64) Slice { return Slice{b, off, size} }

// Head is the first n bytes of a (all of it if shorter): for a binding a
// kernel does not read, where a view of the whole would be refused.
func Head(a Arg, n uint64) Slice {
	r := a.region()
	return Slice{r.Buf, r.Off, min(n, r.Size)}
}

// Groups is a workgroup count in x, y and z.
type Groups [3]uint32

// Grid returns the number of workgroups of size local that cover n items.
func Grid(n, local int) uint32 { return uint32((n + local - 1) / local) }

// SequenceOptions configure NewSequence.
type SequenceOptions struct {
	// Timestamps records a GPU timestamp after every dispatch, where the
	// queue supports them (see Timings).
	Timestamps bool
}

// Sequence records dispatches into one command buffer, with the barriers
// their buffer dependencies need, to be submitted once or many times.
//
// Recording methods keep the first error and ignore later calls; End and
// Submit return it.
type Sequence struct {
	m     *Manager
	cmd   vk.CommandBuffer
	cmdC  []vk.CommandBuffer
	freeC func()
	fence vk.Fence

	pools    []vk.DescriptorPool
	setsLeft int
	views    []uint64 // texel-buffer views its descriptor sets use

	begun, ended, pending bool
	err                   error
	written, read         map[*Buffer]bool // since the last barrier

	timestamps bool
	queries    []vk.QueryPool
	nQueries   int
	section    string
	labels     []Timing // one per timestamp after the first
	barriers   int
	runs       int      // submissions so far
	recorded   []string // what was recorded, in order (tests read it)
	uses       map[*Buffer]bool
}

const (
	setsPerPool    = 256
	queriesPerPool = 256
)

// NewSequence makes an empty sequence.
func (m *Manager) NewSequence(opts SequenceOptions) (*Sequence, error) {
	if err := m.alive(); err != nil {
		return nil, err
	}
	s := &Sequence{m: m, written: map[*Buffer]bool{}, read: map[*Buffer]bool{}, uses: map[*Buffer]bool{},
		timestamps: opts.Timestamps && m.HasTimestamps()}
	var err error
	if s.cmd, err = m.allocCommandBuffer(); err != nil {
		return nil, err
	}
	s.cmdC, s.freeC = cCopy([]vk.CommandBuffer{s.cmd})
	if s.fence, err = m.newFence(); err != nil {
		s.release()
		return nil, err
	}
	m.seqs[s] = struct{}{}
	return s, nil
}

func (s *Sequence) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// begin starts recording on first use.
func (s *Sequence) begin() bool {
	if s.err != nil {
		return false
	}
	if s.ended {
		s.fail(errors.New("gpu: sequence is already recorded; make a new one"))
		return false
	}
	if !s.begun {
		if err := s.m.in.direct.beginCommandBuffer(s.cmd, 0); err != nil {
			s.fail(err)
			return false
		}
		s.begun = true
		// What earlier submissions wrote is available after their fences,
		// but not visible to this one's reads without a barrier.
		s.m.in.direct.computeBarrier(s.cmd)
		s.recorded = append(s.recorded, "barrier")
		s.timestamp("", "")
	}
	return true
}

// Section names the dispatches recorded after it, for Timings.
func (s *Sequence) Section(name string) { s.section = name }

// Dispatch records kernel k over groups workgroups with push constants
// push and buffers args bound to bindings 0, 1, ... in order.
func (s *Sequence) Dispatch(k *Kernel, groups Groups, push []uint32, args ...Arg) {
	if !s.begin() {
		return
	}
	if err := s.checkDispatch(k, groups, push, args); err != nil {
		s.fail(fmt.Errorf("gpu: dispatch of %s: %w", k.Name(), err))
		return
	}
	set, err := s.allocSet(k)
	if err != nil {
		s.fail(err)
		return
	}
	regions := make([]Slice, len(args))
	for i, a := range args {
		regions[i] = a.region()
	}
	views := make([]uint64, len(regions))
	for i, r := range regions {
		if k.spec.Access[i] != 't' {
			continue
		}
		v, err := s.m.in.direct.createTexelView(s.m.device, r)
		if err != nil {
			s.fail(err)
			return
		}
		views[i] = v
		s.views = append(s.views, v)
	}
	if err := s.m.in.direct.bindBuffers(s.m.device, set, regions, views); err != nil {
		s.fail(err)
		return
	}

	access := make([]byte, len(args))
	bufs := make([]*Buffer, len(args))
	for i, a := range args {
		access[i], bufs[i] = k.spec.Access[i], a.region().Buf
		if access[i] == 't' {
			access[i] = 'r'
		}
	}
	s.depend(bufs, access)
	vk.CmdBindPipeline(s.cmd, vk.PipelineBindPointCompute, k.pipeline)
	vk.CmdBindDescriptorSets(s.cmd, vk.PipelineBindPointCompute, k.layout, 0, 1, []vk.DescriptorSet{set}, 0, nil)
	if len(push) > 0 {
		vk.CmdPushConstants(s.cmd, k.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0,
			uint32(4*len(push)), unsafe.Pointer(&push[0]))
	}
	vk.CmdDispatch(s.cmd, groups[0], groups[1], groups[2])
	s.recorded = append(s.recorded, k.Name())
	s.timestamp(s.section, k.Name())
}

func (s *Sequence) checkDispatch(k *Kernel, groups Groups, push []uint32, args []Arg) error {
	if len(args) != len(k.spec.Access) {
		return fmt.Errorf("%d buffers given, the kernel binds %d", len(args), len(k.spec.Access))
	}
	if uint32(4*len(push)) != k.spec.PushBytes {
		return fmt.Errorf("%d bytes of push constants given, the kernel takes %d", 4*len(push), k.spec.PushBytes)
	}
	info := s.m.info
	for i, g := range groups {
		if g == 0 || g > info.MaxWorkgroupCount[i] {
			return fmt.Errorf("workgroup count %v is outside 1..%v", groups, info.MaxWorkgroupCount)
		}
	}
	for i, a := range args {
		r := a.region()
		switch {
		case r.Buf == nil || r.Buf.handle == nil:
			return fmt.Errorf("binding %d: buffer is nil or freed", i)
		case r.Buf.m != s.m:
			return fmt.Errorf("binding %d: buffer belongs to another Manager", i)
		case r.Size == 0 || r.Off > r.Buf.size || r.Size > r.Buf.size-r.Off:
			return fmt.Errorf("binding %d: range [%d, +%d) does not fit a %d-byte buffer", i, r.Off, r.Size, r.Buf.size)
		case k.spec.Access[i] == 't' && r.Off%info.MinTexelOffset != 0:
			return fmt.Errorf("binding %d: texel-buffer offset %d is not a multiple of %d", i, r.Off, info.MinTexelOffset)
		case k.spec.Access[i] == 't' && (texelRange(r) < r.Size || texelRange(r) > info.MaxTexelBytes):
			return fmt.Errorf("binding %d: a texel-buffer view of %d bytes cannot cover %d bytes from offset %d (the device's views hold up to %d)",
				i, texelRange(r), r.Size, r.Off, info.MaxTexelBytes)
		case k.spec.Access[i] != 't' && r.Size > uint64(info.MaxStorageBufferRange):
			return fmt.Errorf("binding %d: %d bytes exceed the device's storage-buffer range of %d; bind it in slices", i, r.Size, info.MaxStorageBufferRange)
		case r.Off%uint64(info.minStorageOffset) != 0:
			return fmt.Errorf("binding %d: offset %d is not a multiple of %d", i, r.Off, info.minStorageOffset)
		}
	}
	return nil
}

// depend records a barrier when this command touches a buffer that an
// earlier command since the last barrier wrote, or writes one it read. It
// also counts the sequence among the buffers' users.
func (s *Sequence) depend(bufs []*Buffer, access []byte) {
	for _, b := range bufs {
		if !s.uses[b] {
			s.uses[b] = true
			b.users++
		}
	}
	need := false
	for i, b := range bufs {
		if s.written[b] || (access[i] != 'r' && s.read[b]) {
			need = true
		}
	}
	if need {
		s.m.in.direct.computeBarrier(s.cmd)
		s.recorded = append(s.recorded, "barrier")
		s.barriers++
		clear(s.written)
		clear(s.read)
	}
	for i, b := range bufs {
		if access[i] != 'r' {
			s.written[b] = true
		}
		if access[i] != 'w' {
			s.read[b] = true
		}
	}
}

// Barrier records a full compute/transfer barrier now.
func (s *Sequence) Barrier() {
	if s.begin() {
		s.m.in.direct.computeBarrier(s.cmd)
		s.recorded = append(s.recorded, "barrier")
		s.barriers++
		clear(s.written)
		clear(s.read)
	}
}

// Fill sets every 32-bit word of a to value (e.g. math.Float32bits(x)).
func (s *Sequence) Fill(a Arg, value uint32) {
	if !s.begin() {
		return
	}
	r := a.region()
	if r.Off%4 != 0 || r.Size%4 != 0 || r.Off+r.Size > r.Buf.size {
		s.fail(fmt.Errorf("gpu: fill: range [%d, +%d) is not whole words of the buffer", r.Off, r.Size))
		return
	}
	s.depend([]*Buffer{r.Buf}, []byte{'w'})
	vk.CmdFillBuffer(s.cmd, r.Buf.handle, vk.DeviceSize(r.Off), vk.DeviceSize(r.Size), value)
	s.recorded = append(s.recorded, "fill")
	s.timestamp(s.section, "fill")
}

// Copy copies src into dst; the two must have the same size.
func (s *Sequence) Copy(src, dst Arg) {
	if !s.begin() {
		return
	}
	a, b := src.region(), dst.region()
	if a.Size != b.Size || a.Off+a.Size > a.Buf.size || b.Off+b.Size > b.Buf.size {
		s.fail(fmt.Errorf("gpu: copy: %d bytes into %d bytes", a.Size, b.Size))
		return
	}
	s.depend([]*Buffer{a.Buf, b.Buf}, []byte{'r', 'w'})
	s.m.in.direct.copyRegion(s.cmd, a.Buf.handle, b.Buf.handle, a.Off, b.Off, a.Size)
	s.recorded = append(s.recorded, "copy")
	s.timestamp(s.section, "copy")
}

// Barriers is the number of barriers recorded between commands (besides
// the one each sequence starts with, which orders it after earlier
// submissions).
func (s *Sequence) Barriers() int { return s.barriers }

// End finishes recording. Submit calls it when needed.
func (s *Sequence) End() error {
	if s.ended || !s.begin() {
		return s.err
	}
	s.m.in.direct.hostBarrier(s.cmd)
	s.recorded = append(s.recorded, "host barrier")
	s.fail(check(vk.EndCommandBuffer(s.cmd), "vkEndCommandBuffer"))
	s.ended = true
	return s.err
}

// Start submits the recorded commands without waiting; Wait waits.
func (s *Sequence) Start() error {
	if err := s.End(); err != nil {
		return err
	}
	if s.pending {
		if err := s.Wait(); err != nil {
			return err
		}
	}
	if err := s.m.submit(s.cmdC, s.fence); err != nil {
		return err
	}
	s.pending = true
	s.runs++
	return nil
}

// Wait blocks until the last Start has finished on the device.
func (s *Sequence) Wait() error {
	if !s.pending {
		return nil
	}
	s.pending = false
	return s.m.wait(s.fence)
}

// Submit runs the recorded commands once and waits for them. A sequence
// can be submitted any number of times.
func (s *Sequence) Submit() error {
	if err := s.Start(); err != nil {
		return err
	}
	return s.Wait()
}

// Close releases the sequence now rather than at Manager.Close.
func (s *Sequence) Close() {
	if s.cmd == nil {
		return
	}
	if s.pending {
		_ = s.Wait()
	}
	delete(s.m.seqs, s)
	s.release()
}

func (s *Sequence) release() {
	for b := range s.uses {
		b.users--
	}
	s.uses = nil
	dev := s.m.device
	for _, q := range s.queries {
		vk.DestroyQueryPool(dev, q, nil)
	}
	for _, p := range s.pools {
		vk.DestroyDescriptorPool(dev, p, nil)
	}
	for _, v := range s.views {
		s.m.in.direct.destroyView(dev, v)
	}
	s.views = nil
	if s.fence != vk.NullFence {
		vk.DestroyFence(dev, s.fence, nil)
	}
	if s.cmd != nil {
		vk.FreeCommandBuffers(dev, s.m.cmdPool, 1, []vk.CommandBuffer{s.cmd})
		s.cmd = nil
	}
	if s.freeC != nil {
		s.freeC()
		s.freeC = nil
	}
	s.queries, s.pools = nil, nil
}

// allocSet takes a descriptor set for k from the sequence's pools.
func (s *Sequence) allocSet(k *Kernel) (vk.DescriptorSet, error) {
	n := len(k.spec.Access)
	if s.setsLeft == 0 || n > 16 {
		size := []vk.DescriptorPoolSize{
			{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: uint32(setsPerPool * max(16, n))},
			{Type: vk.DescriptorTypeUniformTexelBuffer, DescriptorCount: uint32(setsPerPool * max(16, n))},
		}
		info := vk.DescriptorPoolCreateInfo{
			SType:         vk.StructureTypeDescriptorPoolCreateInfo,
			MaxSets:       setsPerPool,
			PoolSizeCount: uint32(len(size)),
			PPoolSizes:    size,
		}
		var p vk.DescriptorPool
		defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
		if err := check(vk.CreateDescriptorPool(s.m.device, &info, nil, &p), "vkCreateDescriptorPool"); err != nil {
			return nil, err
		}
		s.pools = append(s.pools, p)
		s.setsLeft = setsPerPool
	}
	layouts, free := cCopy([]vk.DescriptorSetLayout{k.setLayout})
	defer free()
	info := vk.DescriptorSetAllocateInfo{
		SType:              vk.StructureTypeDescriptorSetAllocateInfo,
		DescriptorPool:     s.pools[len(s.pools)-1],
		DescriptorSetCount: 1,
		PSetLayouts:        layouts,
	}
	var set vk.DescriptorSet
	defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.AllocateDescriptorSets(s.m.device, &info, &set), "vkAllocateDescriptorSets"); err != nil {
		return nil, err
	}
	s.setsLeft--
	return set, nil
}
