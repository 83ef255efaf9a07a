package gpu

import (
	"runtime"
	"time"

	vk "github.com/vulkan-go/vulkan"
)

// fenceTimeout bounds one wait; a step that runs longer is reported as a
// hang rather than waited on forever.
const fenceTimeout = 10 * time.Minute

func (m *Manager) allocCommandBuffer() (vk.CommandBuffer, error) {
	info := vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        m.cmdPool,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: 1,
	}
	cmds := make([]vk.CommandBuffer, 1)
	defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.AllocateCommandBuffers(m.device, &info, cmds), "vkAllocateCommandBuffers"); err != nil {
		return nil, err
	}
	return cmds[0], nil
}

func (m *Manager) newFence() (vk.Fence, error) {
	info := vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}
	var f vk.Fence
	defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
	err := check(vk.CreateFence(m.device, &info, nil, &f), "vkCreateFence")
	return f, err
}

// computeBarrier makes all earlier compute and transfer writes visible to later
// compute and transfer work.
func (d direct) computeBarrier(cmd vk.CommandBuffer) {
	stages := vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit | vk.PipelineStageTransferBit)
	d.memoryBarrier(cmd, stages, stages, vk.AccessFlags(vk.AccessShaderWriteBit|vk.AccessTransferWriteBit),
		vk.AccessFlags(vk.AccessShaderReadBit|vk.AccessShaderWriteBit|vk.AccessTransferReadBit|vk.AccessTransferWriteBit))
}

// hostBarrier makes all device writes visible to host reads after the fence.
func (d direct) hostBarrier(cmd vk.CommandBuffer) {
	d.memoryBarrier(cmd, vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit|vk.PipelineStageTransferBit),
		vk.PipelineStageFlags(vk.PipelineStageHostBit), vk.AccessFlags(vk.AccessShaderWriteBit|vk.AccessTransferWriteBit),
		vk.AccessFlags(vk.AccessHostReadBit))
}

// runOnce records cmd with record, submits it and waits for it.
func (m *Manager) runOnce(cmd vk.CommandBuffer, cmdC []vk.CommandBuffer, fence vk.Fence, record func(vk.CommandBuffer)) error {
	if err := m.in.direct.beginCommandBuffer(cmd, vk.CommandBufferUsageOneTimeSubmitBit); err != nil {
		return err
	}
	// Earlier submissions' writes, visible to this one's copies.
	m.in.direct.computeBarrier(cmd)
	record(cmd)
	if err := check(vk.EndCommandBuffer(cmd), "vkEndCommandBuffer"); err != nil {
		return err
	}
	if err := check(m.in.direct.queueSubmitCmds(m.queue, cmdC, fence), "vkQueueSubmit"); err != nil {
		return err
	}
	return m.wait(fence)
}

// submit queues a sequence's command buffers in cmdC (C memory) to signal
// fence. Fault injection counts these submissions only, not transfers, so
// that it strikes at the same point on every memory path.
func (m *Manager) submit(cmdC []vk.CommandBuffer, fence vk.Fence) error {
	m.submits++
	if m.loseAfter > 0 && m.submits > m.loseAfter {
		return &Error{Call: "vkQueueSubmit", Result: vk.ErrorDeviceLost}
	}
	return check(m.in.direct.queueSubmitCmds(m.queue, cmdC, fence), "vkQueueSubmit")
}

// wait blocks until fence is signalled, then resets it.
func (m *Manager) wait(fence vk.Fence) error {
	fences := []vk.Fence{fence}
	if err := check(vk.WaitForFences(m.device, 1, fences, vk.True, uint64(fenceTimeout)), "vkWaitForFences"); err != nil {
		return err
	}
	return check(vk.ResetFences(m.device, 1, fences), "vkResetFences")
}
