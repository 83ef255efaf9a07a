package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

static void* vknnOpenLoader(const char* name) { return dlopen(name, RTLD_NOW | RTLD_LOCAL); }
static void* vknnSym(void* lib, const char* name) { return dlsym(lib, name); }
static const char* vknnDlError(void) { const char* e = dlerror(); return e ? e : ""; }
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// loaderNames are tried in order. The runtime package (libvulkan1) ships only
// the versioned name; the unversioned one comes with the -dev package.
var loaderNames = []string{"libvulkan.so.1", "libvulkan.so"}

var loader struct {
	once sync.Once
	err  error
	proc unsafe.Pointer // vkGetInstanceProcAddr
	// widthSet: LP_NATIVE_VECTOR_WIDTH was set to 512 by vknn (width.go)
	widthSet bool
}

// loadVulkan opens the system Vulkan loader once per process and hands its
// vkGetInstanceProcAddr to the binding. The binding's function table is
// process-wide, so this state is too.
func loadVulkan() error {
	loader.once.Do(func() {
		loader.widthSet = defaultVectorWidth()
		var tried []string
		for _, name := range loaderNames {
			cname := C.CString(name)
			lib := C.vknnOpenLoader(cname)
			C.free(unsafe.Pointer(cname))
			if lib == nil {
				tried = append(tried, C.GoString(C.vknnDlError()))
				continue
			}
			csym := C.CString("vkGetInstanceProcAddr")
			proc := C.vknnSym(lib, csym)
			C.free(unsafe.Pointer(csym))
			if proc == nil {
				tried = append(tried, name+": no vkGetInstanceProcAddr")
				continue
			}
			loader.proc = proc
			vk.SetGetInstanceProcAddr(proc)
			if err := vk.Init(); err != nil {
				loader.err = fmt.Errorf("gpu: initialising the Vulkan loader %s: %w", name, err)
			}
			return
		}
		loader.err = fmt.Errorf("gpu: no Vulkan loader found (%s); install it, e.g. "+
			"`apt-get install libvulkan1 mesa-vulkan-drivers` on Debian/Ubuntu, "+
			"which also brings lavapipe, Mesa's CPU driver", strings.Join(tried, "; "))
	})
	return loader.err
}
