package gpu

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// resultNames maps the VkResult codes a compute program can meet to their
// names in the Vulkan specification.
var resultNames = map[vk.Result]string{
	vk.Success:                   "VK_SUCCESS",
	vk.NotReady:                  "VK_NOT_READY",
	vk.Timeout:                   "VK_TIMEOUT",
	vk.EventSet:                  "VK_EVENT_SET",
	vk.EventReset:                "VK_EVENT_RESET",
	vk.Incomplete:                "VK_INCOMPLETE",
	vk.ErrorOutOfHostMemory:      "VK_ERROR_OUT_OF_HOST_MEMORY",
	vk.ErrorOutOfDeviceMemory:    "VK_ERROR_OUT_OF_DEVICE_MEMORY",
	vk.ErrorInitializationFailed: "VK_ERROR_INITIALIZATION_FAILED",
	vk.ErrorDeviceLost:           "VK_ERROR_DEVICE_LOST",
	vk.ErrorMemoryMapFailed:      "VK_ERROR_MEMORY_MAP_FAILED",
	vk.ErrorLayerNotPresent:      "VK_ERROR_LAYER_NOT_PRESENT",
	vk.ErrorExtensionNotPresent:  "VK_ERROR_EXTENSION_NOT_PRESENT",
	vk.ErrorFeatureNotPresent:    "VK_ERROR_FEATURE_NOT_PRESENT",
	vk.ErrorIncompatibleDriver:   "VK_ERROR_INCOMPATIBLE_DRIVER",
	vk.ErrorTooManyObjects:       "VK_ERROR_TOO_MANY_OBJECTS",
	vk.ErrorFormatNotSupported:   "VK_ERROR_FORMAT_NOT_SUPPORTED",
	vk.ErrorFragmentedPool:       "VK_ERROR_FRAGMENTED_POOL",
	vk.ErrorOutOfPoolMemory:      "VK_ERROR_OUT_OF_POOL_MEMORY",
	vk.ErrorInvalidShaderNv:      "VK_ERROR_INVALID_SHADER_NV",
	-13:                          "VK_ERROR_UNKNOWN",
}

// Error is a failed Vulkan call.
type Error struct {
	Call   string    // the Vulkan function, e.g. "vkCreateBuffer"
	Result vk.Result // what it returned
}

func (e *Error) Error() string {
	name, ok := resultNames[e.Result]
	if !ok {
		name = fmt.Sprintf("VkResult(%d)", int32(e.Result))
	}
	return fmt.Sprintf("gpu: %s: %s", e.Call, name)
}

// DeviceLost reports whether the error is VK_ERROR_DEVICE_LOST.
func (e *Error) DeviceLost() bool { return e.Result == vk.ErrorDeviceLost }

// OutOfMemory reports whether the device or host ran out of memory.
func (e *Error) OutOfMemory() bool {
	return e.Result == vk.ErrorOutOfDeviceMemory || e.Result == vk.ErrorOutOfHostMemory
}

// check turns a VkResult into an error naming the call, or nil on success.
func check(res vk.Result, call string) error {
	if res == vk.Success {
		return nil
	}
	return &Error{Call: call, Result: res}
}
