package gpu

/*
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Handles cross from Go as their bits: pointers for dispatchable handles,
// and (on the 64-bit platforms vknn runs on) pointers too for the others.
_Static_assert(sizeof(void*) == 8, "vknn needs a 64-bit platform");
_Static_assert(sizeof(VkBuffer) == sizeof(uint64_t), "non-dispatchable handles are 64-bit");
#define NDH(T, h) ((T)(uintptr_t)(h))

static void* vknnProc(void* gipa, void* instance, const char* name) {
	return (void*)((PFN_vkGetInstanceProcAddr)gipa)((VkInstance)instance, name);
}

static int32_t vknnQueueSubmit(void* fn, void* queue, uint32_t ncmd, const void* cmds, uint64_t fence) {
	VkSubmitInfo info = {VK_STRUCTURE_TYPE_SUBMIT_INFO};
	info.commandBufferCount = ncmd;
	info.pCommandBuffers = (const VkCommandBuffer*)cmds;
	return ((PFN_vkQueueSubmit)fn)((VkQueue)queue, 1, &info, NDH(VkFence, fence));
}

static int32_t vknnBeginCommandBuffer(void* fn, void* cmd, uint32_t flags) {
	VkCommandBufferBeginInfo info = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	info.flags = flags;
	return ((PFN_vkBeginCommandBuffer)fn)((VkCommandBuffer)cmd, &info);
}

#define VKNN_MAX_BINDINGS 32
// vknnBindBuffers points bindings 0..n-1 of set at buffer ranges, or at
// texel-buffer views where views[i] is not 0.
static int32_t vknnBindBuffers(void* fn, void* device, uint64_t set, const uint64_t* ranges, const uint64_t* views, uint32_t n) {
	VkDescriptorBufferInfo infos[VKNN_MAX_BINDINGS];
	VkBufferView texels[VKNN_MAX_BINDINGS];
	VkWriteDescriptorSet writes[VKNN_MAX_BINDINGS];
	if (n > VKNN_MAX_BINDINGS) return VK_ERROR_UNKNOWN;
	for (uint32_t i = 0; i < n; i++) {
		VkDescriptorBufferInfo bi = {NDH(VkBuffer, ranges[3 * i]), ranges[3 * i + 1], ranges[3 * i + 2]};
		infos[i] = bi;
		texels[i] = NDH(VkBufferView, views[i]);
		VkWriteDescriptorSet w = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
		w.dstSet = NDH(VkDescriptorSet, set);
		w.dstBinding = i;
		w.descriptorCount = 1;
		if (views[i]) {
			w.descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
			w.pTexelBufferView = &texels[i];
		} else {
			w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
			w.pBufferInfo = &infos[i];
		}
		writes[i] = w;
	}
	((PFN_vkUpdateDescriptorSets)fn)((VkDevice)device, n, writes, 0, 0);
	return VK_SUCCESS;
}

// vknnCreateTexelView makes an RGBA32F view of range bytes of buffer from off.
static int32_t vknnCreateTexelView(void* fn, void* device, uint64_t buffer, uint64_t off, uint64_t range, uint64_t* view) {
	VkBufferViewCreateInfo info = {VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
	info.buffer = NDH(VkBuffer, buffer);
	info.format = VK_FORMAT_R32G32B32A32_SFLOAT;
	info.offset = off;
	info.range = range;
	VkBufferView out = VK_NULL_HANDLE;
	int32_t r = ((PFN_vkCreateBufferView)fn)((VkDevice)device, &info, 0, &out);
	*view = (uint64_t)(uintptr_t)out;
	return r;
}

static void vknnDestroyView(void* fn, void* device, uint64_t view) {
	((PFN_vkDestroyBufferView)fn)((VkDevice)device, NDH(VkBufferView, view), 0);
}

static void vknnBarrier(void* fn, void* cmd, uint32_t srcStage, uint32_t dstStage, uint32_t src, uint32_t dst) {
	VkMemoryBarrier b = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, 0, src, dst};
	((PFN_vkCmdPipelineBarrier)fn)((VkCommandBuffer)cmd, srcStage, dstStage, 0, 1, &b, 0, 0, 0, 0);
}

static void vknnCopy(void* fn, void* cmd, uint64_t src, uint64_t dst, uint64_t srcOff, uint64_t dstOff, uint64_t size) {
	VkBufferCopy r = {srcOff, dstOff, size};
	((PFN_vkCmdCopyBuffer)fn)((VkCommandBuffer)cmd, NDH(VkBuffer, src), NDH(VkBuffer, dst), 1, &r);
}

#define VKNN_MAX_SPEC 64
static int32_t vknnCreateCompute(void* fn, void* device, uint64_t cache, uint64_t module, uint64_t layout,
                                 const uint32_t* spec, uint32_t nspec, uint64_t* pipeline) {
	VkSpecializationMapEntry entries[VKNN_MAX_SPEC];
	if (nspec > VKNN_MAX_SPEC) return VK_ERROR_UNKNOWN;
	for (uint32_t i = 0; i < nspec; i++) { entries[i].constantID = i; entries[i].offset = 4 * i; entries[i].size = 4; }
	VkSpecializationInfo si = {nspec, entries, 4 * (size_t)nspec, spec};
	VkComputePipelineCreateInfo info = {VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
	info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
	info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
	info.stage.module = NDH(VkShaderModule, module);
	info.stage.pName = "main";
	info.stage.pSpecializationInfo = nspec ? &si : 0;
	info.layout = NDH(VkPipelineLayout, layout);
	info.basePipelineIndex = -1;
	VkPipeline out = VK_NULL_HANDLE;
	int32_t r = ((PFN_vkCreateComputePipelines)fn)((VkDevice)device, NDH(VkPipelineCache, cache), 1, &info, 0, &out);
	*pipeline = (uint64_t)(uintptr_t)out;
	return r;
}

// vknnHasLayer tells whether the loader knows the named instance layer.
static int vknnHasLayer(void* gipa, const char* name) {
	PFN_vkEnumerateInstanceLayerProperties f =
		(PFN_vkEnumerateInstanceLayerProperties)((PFN_vkGetInstanceProcAddr)gipa)(VK_NULL_HANDLE, "vkEnumerateInstanceLayerProperties");
	uint32_t n = 0;
	if (!f || f(&n, 0) != VK_SUCCESS || n == 0) return 0;
	VkLayerProperties* props = calloc(n, sizeof *props);
	if (!props) return 0;
	int found = 0;
	VkResult r = f(&n, props);
	if (r == VK_SUCCESS || r == VK_INCOMPLETE) {
		for (uint32_t i = 0; i < n && !found; i++) found = strncmp(props[i].layerName, name, VK_MAX_EXTENSION_NAME_SIZE) == 0;
	}
	free(props);
	return found;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// The binding copies the structs it is given into C memory owned by an
// allocation map that a finalizer frees. For a single struct passed by
// pointer the map hangs off the Go struct, so the callers keep that alive
// across the call (runtime.KeepAlive). For arrays of structs the binding
// drops the map before the C call, so a collection during the call can
// free what the driver is reading: seen as std::bad_alloc in pipeline
// creation and SIGSEGV in vkQueueSubmit, easily provoked with GOGC=1
// (TestCallsUnderGC). The calls that take arrays of structs after the
// device is open therefore go straight to the loader with their structs
// built on the C stack: vkQueueSubmit, vkCreateComputePipelines,
// vkUpdateDescriptorSets, vkCmdPipelineBarrier and vkCmdCopyBuffer; and
// so do the calls made per step or per transfer, whose struct copies the
// binding never frees (vkBeginCommandBuffer: 500k calls grew RSS by 24
// MiB), and the layer enumeration of opening a device. The structs are
// Vulkan's own, from vulkan/vulkan.h.

// direct holds the entry points of one instance.
type direct struct {
	queueSubmit, createCompute, updateSets, barrier, copyBuffer, beginCmd unsafe.Pointer
	createViewFn, destroyViewFn                                           unsafe.Pointer
}

// loadDirect looks the entry points up through the loader.
func loadDirect(inst vk.Instance) (direct, error) {
	h := dispatchable(inst)
	var d direct
	for _, f := range []struct {
		p    *unsafe.Pointer
		name string
	}{{&d.queueSubmit, "vkQueueSubmit"}, {&d.createCompute, "vkCreateComputePipelines"},
		{&d.updateSets, "vkUpdateDescriptorSets"}, {&d.barrier, "vkCmdPipelineBarrier"},
		{&d.copyBuffer, "vkCmdCopyBuffer"}, {&d.beginCmd, "vkBeginCommandBuffer"},
		{&d.createViewFn, "vkCreateBufferView"}, {&d.destroyViewFn, "vkDestroyBufferView"}} {
		name := C.CString(f.name)
		*f.p = C.vknnProc(loader.proc, h, name)
		C.free(unsafe.Pointer(name))
		if *f.p == nil {
			return d, fmt.Errorf("gpu: the Vulkan loader has no %s", f.name)
		}
	}
	return d, nil
}

// handle64 is a non-dispatchable handle's bits.
func handle64[T any](h T) C.uint64_t { return *(*C.uint64_t)(unsafe.Pointer(&h)) }

// dispatchable is a dispatchable handle (instance, device, queue, command
// buffer) as the pointer it is.
func dispatchable[T any](h T) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&h)) }

// bindBuffers points bindings 0, 1, ... of set at the regions, as texel
// buffers through views[i] where that is not 0, else as storage buffers.
func (d direct) bindBuffers(dev vk.Device, set vk.DescriptorSet, regions []Slice, views []uint64) error {
	r := make([]C.uint64_t, 0, 3*len(regions))
	vs := make([]C.uint64_t, len(regions))
	for i, g := range regions {
		r = append(r, handle64(g.Buf.handle), C.uint64_t(g.Off), C.uint64_t(g.Size))
		vs[i] = C.uint64_t(views[i])
	}
	var p, v *C.uint64_t
	if len(r) > 0 {
		p, v = &r[0], &vs[0]
	}
	if C.vknnBindBuffers(d.updateSets, dispatchable(dev), handle64(set), p, v, C.uint32_t(len(regions))) != 0 {
		return fmt.Errorf("gpu: more than %d bindings", C.VKNN_MAX_BINDINGS)
	}
	return nil
}

// memoryBarrier records a global memory barrier into cmd.
func (d direct) memoryBarrier(cmd vk.CommandBuffer, src, dst vk.PipelineStageFlags, srcAccess, dstAccess vk.AccessFlags) {
	C.vknnBarrier(d.barrier, dispatchable(cmd), C.uint32_t(src), C.uint32_t(dst),
		C.uint32_t(srcAccess), C.uint32_t(dstAccess))
}

// copyRegion records a copy of size bytes from src at srcOff to dst at
// dstOff.
func (d direct) copyRegion(cmd vk.CommandBuffer, src, dst vk.Buffer, srcOff, dstOff, size uint64) {
	C.vknnCopy(d.copyBuffer, dispatchable(cmd), handle64(src), handle64(dst), C.uint64_t(srcOff), C.uint64_t(dstOff), C.uint64_t(size))
}

// beginCommandBuffer starts recording cmd with the usage flags given.
func (d direct) beginCommandBuffer(cmd vk.CommandBuffer, flags vk.CommandBufferUsageFlagBits) error {
	return check(vk.Result(C.vknnBeginCommandBuffer(d.beginCmd, dispatchable(cmd), C.uint32_t(flags))), "vkBeginCommandBuffer")
}

// hasLayer reports whether the loader knows the named instance layer.
func hasLayer(name string) bool {
	c := C.CString(name)
	defer C.free(unsafe.Pointer(c))
	return C.vknnHasLayer(loader.proc, c) != 0
}

// queueSubmitCmds submits cmds (C memory) to queue, signalling fence.
func (d direct) queueSubmitCmds(queue vk.Queue, cmds []vk.CommandBuffer, fence vk.Fence) vk.Result {
	return vk.Result(C.vknnQueueSubmit(d.queueSubmit, dispatchable(queue), C.uint32_t(len(cmds)), unsafePointer(cmds), handle64(fence)))
}

// createComputePipeline builds one compute pipeline, entry point "main",
// specialization constants 0, 1, ... from spec.
func (d direct) createComputePipeline(dev vk.Device, cache vk.PipelineCache, module vk.ShaderModule,
	layout vk.PipelineLayout, spec []uint32) (vk.Pipeline, vk.Result) {
	var p *C.uint32_t
	if len(spec) > 0 {
		p = (*C.uint32_t)(unsafe.Pointer(&spec[0]))
	}
	var out C.uint64_t
	r := C.vknnCreateCompute(d.createCompute, dispatchable(dev), handle64(cache),
		handle64(module), handle64(layout), p, C.uint32_t(len(spec)), &out)
	var pipe vk.Pipeline
	*(*C.uint64_t)(unsafe.Pointer(&pipe)) = out
	return pipe, vk.Result(r)
}

// createTexelView makes an RGBA32F view of region r (texelRange).
func (d direct) createTexelView(dev vk.Device, r Slice) (uint64, error) {
	var v C.uint64_t
	res := vk.Result(C.vknnCreateTexelView(d.createViewFn, dispatchable(dev), handle64(r.Buf.handle),
		C.uint64_t(r.Off), C.uint64_t(texelRange(r)), &v))
	return uint64(v), check(res, "vkCreateBufferView")
}

func (d direct) destroyView(dev vk.Device, v uint64) {
	C.vknnDestroyView(d.destroyViewFn, dispatchable(dev), C.uint64_t(v))
}

// texelRange is the bytes of a texel-buffer view of r: its size rounded
// up to whole vec4s, as far as the buffer's allocation (whole vec4s, see
// NewBuffer) reaches from r.Off. checkDispatch refuses a view that does
// not cover r.
func texelRange(r Slice) uint64 {
	alloc := (r.Buf.size + 15) / 16 * 16
	if r.Off >= alloc {
		return 0
	}
	return min((r.Size+15)/16*16, (alloc-r.Off)/16*16)
}
