package gpu

// #include <string.h>
import "C"

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// stagingChunk bounds the staging buffer; larger copies go in pieces.
const stagingChunk = 64 << 20

// transfer is a host-visible staging buffer with a command buffer and a
// fence for copies to and from buffers the host cannot map.
type transfer struct {
	alloc  allocation
	buf    vk.Buffer
	mem    vk.DeviceMemory
	size   uint64
	mapped unsafe.Pointer
	cmd    vk.CommandBuffer
	cmdC   []vk.CommandBuffer // C memory, for vkQueueSubmit
	freeC  func()
	fence  vk.Fence
}

func (m *Manager) newTransfer(size uint64) (*transfer, error) {
	t := &transfer{size: size}
	// Cached memory reads back fast; coherent memory is what every device
	// has (the Vulkan spec guarantees a host-visible coherent type).
	var err error
	t.alloc, err = m.allocBuffer(size, vk.BufferUsageTransferSrcBit|vk.BufferUsageTransferDstBit,
		[]vk.MemoryPropertyFlags{hostCoherent | hostCached, hostCoherent})
	if err != nil {
		return nil, fmt.Errorf("gpu: staging: %w", err)
	}
	t.buf, t.mem = t.alloc.buf, t.alloc.mem
	var p unsafe.Pointer
	if err := check(vk.MapMemory(m.device, t.mem, 0, vk.DeviceSize(size), 0, &p), "vkMapMemory"); err != nil {
		t.release(m)
		return nil, err
	}
	t.mapped = p
	if t.cmd, err = m.allocCommandBuffer(); err != nil {
		t.release(m)
		return nil, err
	}
	t.cmdC, t.freeC = cCopy([]vk.CommandBuffer{t.cmd})
	if t.fence, err = m.newFence(); err != nil {
		t.release(m)
		return nil, err
	}
	return t, nil
}

func (t *transfer) release(m *Manager) {
	if t.fence != vk.NullFence {
		vk.DestroyFence(m.device, t.fence, nil)
	}
	if t.freeC != nil {
		t.freeC()
	}
	if t.cmd != nil {
		vk.FreeCommandBuffers(m.device, m.cmdPool, 1, []vk.CommandBuffer{t.cmd})
	}
	if t.mapped != nil {
		vk.UnmapMemory(m.device, t.mem)
	}
	m.freeAlloc(t.alloc)
}

// staged copies data into (upload) or out of b at off through the staging
// buffer, one chunk at a time.
func (m *Manager) staged(b *Buffer, off uint64, data []byte, upload bool) error {
	need := min(uint64(len(data)), stagingChunk)
	if m.xfer == nil || m.xfer.size < need {
		if m.xfer != nil {
			m.xfer.release(m)
			m.xfer = nil
		}
		t, err := m.newTransfer(max(need, 1<<20))
		if err != nil {
			return err
		}
		m.xfer = t
	}
	t := m.xfer
	for done := uint64(0); done < uint64(len(data)); done += t.size {
		n := min(t.size, uint64(len(data))-done)
		chunk := data[done : done+n]
		if upload {
			C.memcpy(t.mapped, unsafe.Pointer(&chunk[0]), C.size_t(n))
		}
		src, dst, srcOff, dstOff := t.buf, b.handle, uint64(0), off+done
		if !upload {
			src, dst, srcOff, dstOff = b.handle, t.buf, off+done, 0
		}
		err := m.runOnce(t.cmd, t.cmdC, t.fence, func(cmd vk.CommandBuffer) {
			m.in.direct.copyRegion(cmd, src, dst, srcOff, dstOff, n)
			m.in.direct.hostBarrier(cmd)
		})
		if err != nil {
			return err
		}
		if !upload {
			C.memcpy(unsafe.Pointer(&chunk[0]), t.mapped, C.size_t(n))
		}
	}
	return nil
}
