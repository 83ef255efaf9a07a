package gpu

// #include <stdlib.h>
import "C"

import "unsafe"

// cSlice returns a slice of n elements of T backed by C memory, zeroed, and
// the function that frees it. The binding stores the address of a slice's
// first element in C structs; C memory keeps that legal under cgocheck.
func cSlice[T any](n int) ([]T, func()) {
	if n == 0 {
		return nil, func() {}
	}
	var zero T
	p := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(zero)))
	if p == nil {
		panic("gpu: C.calloc failed") // out of host memory: nothing sane to return
	}
	return unsafe.Slice((*T)(p), n), func() { C.free(p) }
}

// cCopy copies s into C memory (see cSlice).
func cCopy[T any](s []T) ([]T, func()) {
	c, free := cSlice[T](len(s))
	copy(c, s)
	return c, free
}

// Strings the binding hands to C must be NUL-terminated, and must not live
// on the Go heap (the binding stores their address in C memory): constants
// satisfy both.
const (
	cValidationLayer = validationLayer + "\x00"
	cDebugReport     = "VK_EXT_debug_report\x00"
	cAppName         = "vknn\x00"
)

// unsafePointer is the address of s's first element (s in C memory).
func unsafePointer[T any](s []T) unsafe.Pointer { return unsafe.Pointer(&s[0]) }
