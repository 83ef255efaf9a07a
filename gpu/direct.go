package gpu

/*
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

typedef void* (*vknnGIPA)(void* instance, const char* name);

// Layouts of VkSubmitInfo, VkSpecializationMapEntry, VkSpecializationInfo,
// VkPipelineShaderStageCreateInfo and VkComputePipelineCreateInfo (handles
// of non-dispatchable objects are 64-bit).
typedef struct { uint32_t sType; const void* pNext; uint32_t waitCount; const void* pWait; const void* pWaitStages;
                 uint32_t cmdCount; const void* pCmds; uint32_t signalCount; const void* pSignal; } vknnSubmitInfo;
typedef struct { uint32_t id; uint32_t offset; size_t size; } vknnSpecEntry;
typedef struct { uint32_t count; const vknnSpecEntry* entries; size_t dataSize; const void* data; } vknnSpecInfo;
typedef struct { uint32_t sType; const void* pNext; uint32_t flags; uint32_t stage; uint64_t module;
                 const char* name; const vknnSpecInfo* spec; } vknnStageInfo;
typedef struct { uint32_t sType; const void* pNext; uint32_t flags; vknnStageInfo stage; uint64_t layout;
                 uint64_t base; int32_t baseIndex; } vknnComputeInfo;

typedef int32_t (*vknnQueueSubmitFn)(void* queue, uint32_t n, const vknnSubmitInfo* infos, uint64_t fence);
typedef int32_t (*vknnCreateComputeFn)(void* device, uint64_t cache, uint32_t n, const vknnComputeInfo* infos,
                                       const void* alloc, uint64_t* pipelines);

static void* vknnProc(void* gipa, void* instance, const char* name) { return ((vknnGIPA)gipa)(instance, name); }

static int32_t vknnQueueSubmit(void* fn, void* queue, uint32_t ncmd, const void* cmds, uint64_t fence) {
	vknnSubmitInfo info = {4, 0, 0, 0, 0, ncmd, cmds, 0, 0};
	return ((vknnQueueSubmitFn)fn)(queue, 1, &info, fence);
}

typedef struct { uint64_t buffer; uint64_t offset; uint64_t range; } vknnBufferInfo;
typedef struct { uint32_t sType; const void* pNext; uint64_t set; uint32_t binding; uint32_t element; uint32_t count;
                 uint32_t type; const void* images; const vknnBufferInfo* buffers; const void* views; } vknnWrite;
typedef struct { uint32_t sType; const void* pNext; uint32_t src; uint32_t dst; } vknnMemoryBarrier;
typedef void (*vknnUpdateSetsFn)(void* device, uint32_t n, const vknnWrite* writes, uint32_t ncopy, const void* copies);
typedef void (*vknnBarrierFn)(void* cmd, uint32_t srcStage, uint32_t dstStage, uint32_t dep, uint32_t nmem,
                              const vknnMemoryBarrier* mem, uint32_t nbuf, const void* buf, uint32_t nimg, const void* img);

#define VKNN_MAX_BINDINGS 32
// vknnBindStorage points bindings 0..n-1 of set at buffer ranges.
static int32_t vknnBindStorage(void* fn, void* device, uint64_t set, const uint64_t* ranges, uint32_t n) {
	vknnBufferInfo infos[VKNN_MAX_BINDINGS];
	vknnWrite writes[VKNN_MAX_BINDINGS];
	if (n > VKNN_MAX_BINDINGS) return -13;
	for (uint32_t i = 0; i < n; i++) {
		vknnBufferInfo bi = {ranges[3 * i], ranges[3 * i + 1], ranges[3 * i + 2]};
		infos[i] = bi;
		vknnWrite w = {35, 0, set, i, 0, 1, 7, 0, &infos[i], 0};
		writes[i] = w;
	}
	((vknnUpdateSetsFn)fn)(device, n, writes, 0, 0);
	return 0;
}

static void vknnBarrier(void* fn, void* cmd, uint32_t srcStage, uint32_t dstStage, uint32_t src, uint32_t dst) {
	vknnMemoryBarrier b = {46, 0, src, dst};
	((vknnBarrierFn)fn)(cmd, srcStage, dstStage, 0, 1, &b, 0, 0, 0, 0);
}

typedef struct { uint64_t src; uint64_t dst; uint64_t size; } vknnBufferCopy;
typedef void (*vknnCopyFn)(void* cmd, uint64_t src, uint64_t dst, uint32_t n, const vknnBufferCopy* regions);

static void vknnCopy(void* fn, void* cmd, uint64_t src, uint64_t dst, uint64_t srcOff, uint64_t dstOff, uint64_t size) {
	vknnBufferCopy r = {srcOff, dstOff, size};
	((vknnCopyFn)fn)(cmd, src, dst, 1, &r);
}

#define VKNN_MAX_SPEC 64
static int32_t vknnCreateCompute(void* fn, void* device, uint64_t cache, uint64_t module, uint64_t layout,
                                 const uint32_t* spec, uint32_t nspec, uint64_t* pipeline) {
	vknnSpecEntry entries[VKNN_MAX_SPEC];
	if (nspec > VKNN_MAX_SPEC) return -13; // VK_ERROR_UNKNOWN
	for (uint32_t i = 0; i < nspec; i++) { entries[i].id = i; entries[i].offset = 4 * i; entries[i].size = 4; }
	vknnSpecInfo si = {nspec, entries, 4 * (size_t)nspec, spec};
	vknnComputeInfo info = {29, 0, 0, {18, 0, 0, 0x20, module, "main", nspec ? &si : 0}, layout, 0, -1};
	return ((vknnCreateComputeFn)fn)(device, cache, 1, &info, 0, pipeline);
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
// vkUpdateDescriptorSets, vkCmdPipelineBarrier and vkCmdCopyBuffer.
// Opening the device (layer enumeration) still takes the binding's path.

// direct holds the entry points of one instance.
type direct struct {
	queueSubmit, createCompute, updateSets, barrier, copyBuffer unsafe.Pointer
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
		{&d.copyBuffer, "vkCmdCopyBuffer"}} {
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

// bindStorage points bindings 0, 1, ... of set at the regions.
func (d direct) bindStorage(dev vk.Device, set vk.DescriptorSet, regions []Slice) error {
	r := make([]C.uint64_t, 0, 3*len(regions))
	for _, g := range regions {
		r = append(r, handle64(g.Buf.handle), C.uint64_t(g.Off), C.uint64_t(g.Size))
	}
	var p *C.uint64_t
	if len(r) > 0 {
		p = &r[0]
	}
	if C.vknnBindStorage(d.updateSets, dispatchable(dev), handle64(set), p, C.uint32_t(len(regions))) != 0 {
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
