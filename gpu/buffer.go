package gpu

// #include <string.h>
import "C"

import (
	"fmt"
	"runtime"
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
	alloc  allocation
	users  int // open sequences that have recorded it
}

// allocation is a buffer with its memory, and what it counts against.
type allocation struct {
	buf   vk.Buffer
	mem   vk.DeviceMemory
	flags vk.MemoryPropertyFlags
	heap  uint32
	bytes uint64
}

const bufferUsage = vk.BufferUsageStorageBufferBit | vk.BufferUsageUniformTexelBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit

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
	prefs := []vk.MemoryPropertyFlags{deviceLocal, 0}
	if direct {
		prefs = []vk.MemoryPropertyFlags{deviceLocal | hostCoherent, deviceLocal, 0}
	}
	b := &Buffer{m: m, size: size}
	// Whole vec4s, so that every buffer can be read as a texel buffer.
	a, err := m.allocBuffer((size+15)/16*16, bufferUsage, prefs)
	if err != nil {
		return nil, err
	}
	b.handle, b.mem, b.alloc = a.buf, a.mem, a
	mem := a.mem
	if direct && a.flags&hostCoherent == hostCoherent {
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

// allocBuffer creates a buffer and binds fresh memory chosen by
// chooseMemory from the preferences prefs. Allocations are counted against
// their heap, so that a request the heap cannot hold fails with the sizes
// rather than at the driver's discretion (lavapipe would take host memory
// until the system runs out).
func (m *Manager) allocBuffer(size uint64, usage vk.BufferUsageFlagBits, prefs []vk.MemoryPropertyFlags) (allocation, error) {
	var a allocation
	info := vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       vk.BufferUsageFlags(usage),
		SharingMode: vk.SharingModeExclusive,
	}
	var h vk.Buffer
	defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreateBuffer(m.device, &info, nil, &h), "vkCreateBuffer"); err != nil {
		return a, m.sizeError(err, size)
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(m.device, h, &req)
	req.Deref()
	types, heaps := m.memoryTable()
	typ, err := chooseMemory(types, heaps, m.heapUsed[:], req.MemoryTypeBits, prefs, uint64(req.Size))
	if err != nil {
		vk.DestroyBuffer(m.device, h, nil)
		return a, fmt.Errorf("gpu: allocating %.1f MiB on %s: %w", float64(size)/(1<<20), m.info.Name, err)
	}
	heap := types[typ].heap
	alloc := vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: typ,
	}
	var mem vk.DeviceMemory
	defer runtime.KeepAlive(&alloc) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.AllocateMemory(m.device, &alloc, nil, &mem), "vkAllocateMemory"); err != nil {
		vk.DestroyBuffer(m.device, h, nil)
		return a, m.sizeError(err, size)
	}
	if err := check(vk.BindBufferMemory(m.device, h, mem, 0), "vkBindBufferMemory"); err != nil {
		vk.FreeMemory(m.device, mem, nil)
		vk.DestroyBuffer(m.device, h, nil)
		return a, err
	}
	m.heapUsed[heap] += uint64(req.Size)
	return allocation{buf: h, mem: mem, flags: m.memProps.MemoryTypes[typ].PropertyFlags, heap: heap, bytes: uint64(req.Size)}, nil
}

// freeAlloc releases a and stops counting it.
func (m *Manager) freeAlloc(a allocation) {
	if a.buf != vk.NullBuffer {
		vk.DestroyBuffer(m.device, a.buf, nil)
	}
	if a.mem != vk.NullDeviceMemory {
		vk.FreeMemory(m.device, a.mem, nil)
		m.heapUsed[a.heap] -= a.bytes
	}
}

// sizeError adds the size asked for and the device's memory to an
// allocation failure.
func (m *Manager) sizeError(err error, size uint64) error {
	return fmt.Errorf("allocating %.1f MiB on %s (%.1f GiB device-local memory): %w",
		float64(size)/(1<<20), m.info.Name, float64(m.info.DeviceLocalBytes)/(1<<30), err)
}

// memType is one of a device's memory types: its properties and heap.
type memType struct {
	flags vk.MemoryPropertyFlags
	heap  uint32
}

// memoryTable is the device's memory types and its heaps' sizes.
func (m *Manager) memoryTable() ([]memType, []uint64) {
	types := make([]memType, m.memProps.MemoryTypeCount)
	for i := range types {
		types[i] = memType{m.memProps.MemoryTypes[i].PropertyFlags, m.memProps.MemoryTypes[i].HeapIndex}
	}
	heaps := make([]uint64, m.memProps.MemoryHeapCount)
	for i := range heaps {
		heaps[i] = uint64(m.memProps.MemoryHeaps[i].Size)
	}
	return types, heaps
}

// chooseMemory picks the memory type for size bytes among the types bits
// allows: by preference (the first of prefs that a type has all of; 0
// accepts any), then by order, the first whose heap still has room
// (used: bytes counted per heap). A preference whose heaps are full gives
// way to the next; when all are, the error says which heap and how full,
// as an out-of-device-memory *Error.
func chooseMemory(types []memType, heaps, used []uint64, bits uint32, prefs []vk.MemoryPropertyFlags, size uint64) (uint32, error) {
	full := -1
	for _, want := range prefs {
		for i, t := range types {
			if bits&(1<<i) == 0 || t.flags&want != want {
				continue
			}
			if used[t.heap]+size <= heaps[t.heap] {
				return uint32(i), nil
			}
			if full < 0 {
				full = int(t.heap)
			}
		}
	}
	if full < 0 {
		return 0, fmt.Errorf("no memory type has the properties needed (%#v; allowed types %#x)", prefs, bits)
	}
	return 0, fmt.Errorf("its memory heap holds %.2f GiB and %.2f GiB are in use: %w",
		float64(heaps[full])/(1<<30), float64(used[full])/(1<<30), &Error{Call: "vkAllocateMemory", Result: vk.ErrorOutOfDeviceMemory})
}

const (
	hostCoherent = vk.MemoryPropertyFlags(vk.MemoryPropertyHostVisibleBit | vk.MemoryPropertyHostCoherentBit)
	hostCached   = vk.MemoryPropertyFlags(vk.MemoryPropertyHostCachedBit)
	deviceLocal  = vk.MemoryPropertyFlags(vk.MemoryPropertyDeviceLocalBit)
)

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

// Free releases the buffer now rather than at Manager.Close. It refuses
// while a sequence that recorded the buffer is open: replaying that
// sequence would use freed memory (on a discrete GPU, a lost device).
// Freeing twice is harmless.
func (b *Buffer) Free() error {
	if b.handle == nil {
		return nil
	}
	if b.users > 0 {
		return fmt.Errorf("gpu: a buffer of %d bytes is still recorded in %d open sequence(s); close them first", b.size, b.users)
	}
	delete(b.m.buffers, b)
	b.release()
	return nil
}

func (b *Buffer) release() {
	if b.mapped != nil {
		vk.UnmapMemory(b.m.device, b.mem)
		b.mapped = nil
	}
	b.m.freeAlloc(b.alloc)
	b.handle, b.mem, b.alloc = nil, nil, allocation{}
}
