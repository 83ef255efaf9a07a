package gpu

// #include <string.h>
import "C"

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Buffer is a device storage buffer. On devices whose device-local memory
// the host can map cheaply (CPU drivers such as lavapipe, integrated GPUs)
// reads and writes go straight to it; elsewhere through a staging buffer.
type Buffer struct {
	m      *Manager
	handle vk.Buffer
	mem    vk.DeviceMemory
	size   uint64
	mapped unsafe.Pointer // nil unless mapped for direct access
}

const bufferUsage = vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit

// NewBuffer allocates a device-local storage buffer of size bytes. Its
// contents are undefined until written.
func (m *Manager) NewBuffer(size uint64) (*Buffer, error) {
	if err := m.alive(); err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, fmt.Errorf("gpu: a buffer of 0 bytes was asked for")
	}
	direct := (m.info.Type == "cpu" || m.info.Type == "integrated") && !m.forceStaging
	want := vk.MemoryPropertyDeviceLocalBit
	if direct {
		want |= vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit
	}
	b := &Buffer{m: m, size: size}
	h, mem, flags, err := m.allocBuffer(size, bufferUsage, vk.MemoryPropertyFlags(want))
	if err != nil {
		return nil, err
	}
	b.handle, b.mem = h, mem
	if direct && flags&hostCoherent == hostCoherent {
		var p unsafe.Pointer
		if err := check(vk.MapMemory(m.device, mem, 0, vk.DeviceSize(size), 0, &p),
			"vkMapMemory"); err != nil {
			b.release()
			return nil, err
		}
		b.mapped = p
	}
	m.buffers[b] = struct{}{}
	return b, nil
}

// allocBuffer creates a buffer and binds fresh memory of the first type
// that the buffer allows and that has all of want (falling back to any
// allowed type). It returns the chosen type's property flags.
func (m *Manager) allocBuffer(size uint64, usage vk.BufferUsageFlagBits, want vk.MemoryPropertyFlags) (vk.Buffer, vk.DeviceMemory, vk.MemoryPropertyFlags, error) {
	info := vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       vk.BufferUsageFlags(usage),
		SharingMode: vk.SharingModeExclusive,
	}
	var h vk.Buffer
	if err := check(vk.CreateBuffer(m.device, &info, nil, &h), "vkCreateBuffer"); err != nil {
		return nil, nil, 0, m.sizeError(err, size)
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(m.device, h, &req)
	req.Deref()
	typ, ok := m.memoryType(req.MemoryTypeBits, want)
	if !ok {
		vk.DestroyBuffer(m.device, h, nil)
		return nil, nil, 0, fmt.Errorf("gpu: no memory type fits a %d-byte buffer (type bits %#x)", size, req.MemoryTypeBits)
	}
	alloc := vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: typ,
	}
	var mem vk.DeviceMemory
	if err := check(vk.AllocateMemory(m.device, &alloc, nil, &mem), "vkAllocateMemory"); err != nil {
		vk.DestroyBuffer(m.device, h, nil)
		return nil, nil, 0, m.sizeError(err, size)
	}
	if err := check(vk.BindBufferMemory(m.device, h, mem, 0), "vkBindBufferMemory"); err != nil {
		vk.FreeMemory(m.device, mem, nil)
		vk.DestroyBuffer(m.device, h, nil)
		return nil, nil, 0, err
	}
	return h, mem, m.memProps.MemoryTypes[typ].PropertyFlags, nil
}

// sizeError adds the size asked for and the device's memory to an
// allocation failure.
func (m *Manager) sizeError(err error, size uint64) error {
	return fmt.Errorf("allocating %.1f MiB on %s (%.1f GiB device-local memory): %w",
		float64(size)/(1<<20), m.info.Name, float64(m.info.DeviceLocalBytes)/(1<<30), err)
}

func (m *Manager) memoryType(bits uint32, want vk.MemoryPropertyFlags) (uint32, bool) {
	for pass := 0; pass < 2; pass++ {
		for i := uint32(0); i < m.memProps.MemoryTypeCount; i++ {
			if bits&(1<<i) == 0 {
				continue
			}
			if pass == 1 || m.memProps.MemoryTypes[i].PropertyFlags&want == want {
				return i, true
			}
		}
	}
	return 0, false
}

const hostCoherent = vk.MemoryPropertyFlags(vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit)

// Size is the buffer's length in bytes.
func (b *Buffer) Size() uint64 { return b.size }

func (b *Buffer) span(off, n uint64) error {
	if b.handle == nil {
		return fmt.Errorf("gpu: buffer is freed")
	}
	if off > b.size || n > b.size-off {
		return fmt.Errorf("gpu: %d bytes at offset %d do not fit a %d-byte buffer", n, off, b.size)
	}
	return nil
}

// Write copies data into the buffer at byte offset off.
func (b *Buffer) Write(off uint64, data []byte) error {
	if err := b.span(off, uint64(len(data))); err != nil || len(data) == 0 {
		return err
	}
	if b.mapped != nil {
		C.memcpy(unsafe.Add(b.mapped, off), unsafe.Pointer(&data[0]), C.size_t(len(data)))
		return nil
	}
	return b.m.staged(b, off, data, true)
}

// Read copies len(dst) bytes from the buffer at byte offset off into dst.
func (b *Buffer) Read(off uint64, dst []byte) error {
	if err := b.span(off, uint64(len(dst))); err != nil || len(dst) == 0 {
		return err
	}
	if b.mapped != nil {
		C.memcpy(unsafe.Pointer(&dst[0]), unsafe.Add(b.mapped, off), C.size_t(len(dst)))
		return nil
	}
	return b.m.staged(b, off, dst, false)
}

func asBytes[T float32 | int32 | uint32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*4)
}

// WriteFloat32 writes data at the start of the buffer.
func (b *Buffer) WriteFloat32(data []float32) error { return b.Write(0, asBytes(data)) }

// ReadFloat32 fills dst from the start of the buffer.
func (b *Buffer) ReadFloat32(dst []float32) error { return b.Read(0, asBytes(dst)) }

// WriteInt32 writes data at the start of the buffer.
func (b *Buffer) WriteInt32(data []int32) error { return b.Write(0, asBytes(data)) }

// ReadInt32 fills dst from the start of the buffer.
func (b *Buffer) ReadInt32(dst []int32) error { return b.Read(0, asBytes(dst)) }

// Free releases the buffer now rather than at Manager.Close. The device
// must no longer use it.
func (b *Buffer) Free() {
	if b.handle == nil {
		return
	}
	delete(b.m.buffers, b)
	b.release()
}

func (b *Buffer) release() {
	dev := b.m.device
	if b.mapped != nil {
		vk.UnmapMemory(dev, b.mem)
		b.mapped = nil
	}
	if b.handle != nil {
		vk.DestroyBuffer(dev, b.handle, nil)
		b.handle = nil
	}
	if b.mem != nil {
		vk.FreeMemory(dev, b.mem, nil)
		b.mem = nil
	}
}
