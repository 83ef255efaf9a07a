package gpu

/*
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>
#include <stdint.h>
#include <string.h>

// vknnQueryProps2 calls vkGetPhysicalDeviceProperties2 (core in Vulkan 1.1),
// which the binding lacks, with the subgroup and (Vulkan 1.2) driver
// properties chained. It returns 0 when the entry point is missing.
static int vknnQueryProps2(void* gipa, void* instance, void* pd, int withDriver,
                           uint32_t* subgroupSize, uint32_t* subgroupStages, uint32_t* subgroupOps, char* driverName, char* driverInfo) {
	PFN_vkGetPhysicalDeviceProperties2 f = (PFN_vkGetPhysicalDeviceProperties2)
		((PFN_vkGetInstanceProcAddr)gipa)((VkInstance)instance, "vkGetPhysicalDeviceProperties2");
	if (!f) return 0;
	VkPhysicalDeviceSubgroupProperties sg = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
	VkPhysicalDeviceDriverProperties drv = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
	VkPhysicalDeviceProperties2 p = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
	p.pNext = &sg;
	if (withDriver) sg.pNext = &drv;
	f((VkPhysicalDevice)pd, &p);
	*subgroupSize = sg.subgroupSize;
	*subgroupStages = sg.supportedStages;
	*subgroupOps = sg.supportedOperations;
	memcpy(driverName, drv.driverName, VK_MAX_DRIVER_NAME_SIZE); driverName[VK_MAX_DRIVER_NAME_SIZE - 1] = 0;
	memcpy(driverInfo, drv.driverInfo, VK_MAX_DRIVER_INFO_SIZE); driverInfo[VK_MAX_DRIVER_INFO_SIZE - 1] = 0;
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
	var name [C.VK_MAX_DRIVER_NAME_SIZE]C.char
	var info [C.VK_MAX_DRIVER_INFO_SIZE]C.char
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
