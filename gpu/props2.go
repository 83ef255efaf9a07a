package gpu

/*
#include <stdint.h>
#include <string.h>

typedef void* (*vknnGIPA)(void* instance, const char* name);
typedef void (*vknnProps2Fn)(void* physicalDevice, void* props);

typedef struct { uint32_t sType; void* pNext; uint32_t subgroupSize; uint32_t stages; uint32_t ops; uint32_t quad; } vknnSubgroupProps;
typedef struct { uint32_t sType; void* pNext; uint32_t driverID; char name[256]; char info[256]; uint8_t conformance[4]; } vknnDriverProps;
typedef struct { uint32_t sType; void* pNext; uint64_t properties[256]; } vknnProps2;

// vknnQueryProps2 calls vkGetPhysicalDeviceProperties2 (core in Vulkan 1.1),
// which the binding lacks, with the subgroup and (Vulkan 1.2) driver
// properties chained. It returns 0 when the entry point is missing.
static int vknnQueryProps2(void* gipa, void* instance, void* pd, int withDriver,
                           uint32_t* subgroupSize, uint32_t* subgroupStages, uint32_t* subgroupOps, char* driverName, char* driverInfo) {
	vknnProps2Fn f = (vknnProps2Fn)((vknnGIPA)gipa)(instance, "vkGetPhysicalDeviceProperties2");
	if (!f) return 0;
	vknnSubgroupProps sg; memset(&sg, 0, sizeof sg); sg.sType = 1000094000;
	vknnDriverProps drv; memset(&drv, 0, sizeof drv); drv.sType = 1000196000;
	vknnProps2 p; memset(&p, 0, sizeof p); p.sType = 1000059001; p.pNext = &sg;
	if (withDriver) sg.pNext = &drv;
	f(pd, &p);
	*subgroupSize = sg.subgroupSize;
	*subgroupStages = sg.stages;
	*subgroupOps = sg.ops;
	memcpy(driverName, drv.name, 256); driverName[255] = 0;
	memcpy(driverInfo, drv.info, 256); driverInfo[255] = 0;
	return 1;
}
*/
import "C"

import (
	vk "github.com/vulkan-go/vulkan"
)

// extraProps holds what only vkGetPhysicalDeviceProperties2 tells.
type extraProps struct {
	subgroupSize   uint32
	subgroupStages uint32 // VkShaderStageFlags
	subgroupOps    uint32 // VkSubgroupFeatureFlags
	driverName     string
	driverInfo     string
}

// queryProps2 reads the subgroup size (Vulkan 1.1) and driver name (1.2) of
// pd, asking only for what the device's API version has.
func queryProps2(inst vk.Instance, pd vk.PhysicalDevice, api uint32) extraProps {
	var out extraProps
	if api < vk.MakeVersion(1, 1, 0) || loader.proc == nil {
		return out
	}
	withDriver := C.int(0)
	if api >= vk.MakeVersion(1, 2, 0) {
		withDriver = 1
	}
	var sg, stages, ops C.uint32_t
	var name, info [256]C.char
	ok := C.vknnQueryProps2(loader.proc, dispatchable(inst), dispatchable(pd), withDriver, &sg, &stages, &ops, &name[0], &info[0])
	if ok == 0 {
		return out
	}
	out.subgroupSize = uint32(sg)
	out.subgroupStages, out.subgroupOps = uint32(stages), uint32(ops)
	out.driverName = C.GoString(&name[0])
	out.driverInfo = C.GoString(&info[0])
	return out
}
