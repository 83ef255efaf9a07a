package gpu

// #include <stdlib.h>
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

const validationLayer = "VK_LAYER_KHRONOS_validation"

// Message is one report of the validation layer.
type Message struct {
	Severity string // "error", "warning" or "performance"
	Layer    string
	Text     string
}

func (m Message) String() string { return fmt.Sprintf("[%s %s] %s", m.Severity, m.Layer, m.Text) }

// instance is a VkInstance with, when validating, its debug-report callback.
type instance struct {
	handle   vk.Instance
	api      uint32
	callback vk.DebugReportCallback
	key      unsafe.Pointer // C memory; its address identifies this instance's messages
	direct   direct         // calls made without the binding (direct.go)

	mu   sync.Mutex
	msgs []Message
}

// The binding keeps the first Go callback ever registered, process-wide, so
// one dispatcher is registered and routes each report by its pUserData.
var debugRoutes sync.Map // unsafe.Pointer (pUserData) -> *instance

func dispatchDebug(flags vk.DebugReportFlags, _ vk.DebugReportObjectType, _ uint64, _ uint,
	_ int32, layer, text string, user unsafe.Pointer) vk.Bool32 {
	v, ok := debugRoutes.Load(user)
	if !ok {
		return vk.False
	}
	sev := "warning"
	switch {
	case flags&vk.DebugReportFlags(vk.DebugReportErrorBit) != 0:
		sev = "error"
	case flags&vk.DebugReportFlags(vk.DebugReportPerformanceWarningBit) != 0:
		sev = "performance"
	}
	// The binding's strings point into the layer's memory, which it frees
	// after the call: keep copies.
	in := v.(*instance)
	in.mu.Lock()
	in.msgs = append(in.msgs, Message{Severity: sev, Layer: strings.Clone(strings.TrimRight(layer, "\x00")),
		Text: strings.Clone(strings.TrimRight(text, "\x00"))})
	in.mu.Unlock()
	return vk.False
}

// newInstance loads Vulkan and creates an instance, with the Khronos
// validation layer and a debug-report callback when validate is set.
func newInstance(validate bool) (*instance, error) {
	if err := loadVulkan(); err != nil {
		return nil, err
	}
	var layers, exts []string
	if validate {
		if !hasLayer(validationLayer) {
			return nil, errors.New("gpu: validation was asked for but " + validationLayer +
				" is not installed (Debian/Ubuntu: apt-get install vulkan-validationlayers)")
		}
		layers = []string{cValidationLayer}
		exts = []string{cDebugReport}
	}
	in := &instance{}
	var err error
	// Ask for Vulkan 1.2; a 1.0-only loader refuses that, so fall back.
	for _, api := range []uint32{vk.MakeVersion(1, 2, 0), vk.MakeVersion(1, 0, 0)} {
		app := vk.ApplicationInfo{
			SType:            vk.StructureTypeApplicationInfo,
			PApplicationName: cAppName,
			PEngineName:      cAppName,
			ApiVersion:       api,
		}
		info := vk.InstanceCreateInfo{
			SType:                   vk.StructureTypeInstanceCreateInfo,
			PApplicationInfo:        &app,
			EnabledLayerCount:       uint32(len(layers)),
			PpEnabledLayerNames:     layers,
			EnabledExtensionCount:   uint32(len(exts)),
			PpEnabledExtensionNames: exts,
		}
		var h vk.Instance
		defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
		err = check(vk.CreateInstance(&info, nil, &h), "vkCreateInstance")
		if err == nil {
			in.handle, in.api = h, api
			break
		}
		var ve *Error
		if !errors.As(err, &ve) || ve.Result != vk.ErrorIncompatibleDriver {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w (is a Vulkan driver installed? e.g. mesa-vulkan-drivers for the CPU)", err)
	}
	if err := vk.InitInstance(in.handle); err != nil {
		vk.DestroyInstance(in.handle, nil)
		return nil, fmt.Errorf("gpu: loading instance functions: %w", err)
	}
	if in.direct, err = loadDirect(in.handle); err != nil {
		vk.DestroyInstance(in.handle, nil)
		return nil, err
	}
	if validate {
		in.key = C.malloc(1)
		debugRoutes.Store(in.key, in)
		info := vk.DebugReportCallbackCreateInfo{
			SType: vk.StructureTypeDebugReportCallbackCreateInfo,
			Flags: vk.DebugReportFlags(vk.DebugReportErrorBit | vk.DebugReportWarningBit |
				vk.DebugReportPerformanceWarningBit),
			PfnCallback: dispatchDebug,
			PUserData:   in.key,
		}
		var cb vk.DebugReportCallback
		defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
		if err := check(vk.CreateDebugReportCallback(in.handle, &info, nil, &cb),
			"vkCreateDebugReportCallbackEXT"); err != nil {
			in.destroy()
			return nil, err
		}
		in.callback = cb
	}
	return in, nil
}

// messages returns a copy of the validation reports so far.
func (in *instance) messages() []Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Message(nil), in.msgs...)
}

func (in *instance) destroy() {
	if in.callback != vk.NullDebugReportCallback {
		vk.DestroyDebugReportCallback(in.handle, in.callback, nil)
		in.callback = vk.NullDebugReportCallback
	}
	if in.handle != nil {
		vk.DestroyInstance(in.handle, nil)
		in.handle = nil
	}
	if in.key != nil {
		debugRoutes.Delete(in.key)
		C.free(in.key)
		in.key = nil
	}
}
