package gpu

import (
	"errors"
	"strings"
	"testing"

	vk "github.com/vulkan-go/vulkan"
)

// TestChooseMemory holds the memory choice to its preferences on the
// memory table of a typical discrete GPU: device-local VRAM (heap 0), host
// memory coherent and cached-coherent (heap 1), and a small device-local
// host-visible window (heap 2, the 256 MiB BAR).
func TestChooseMemory(t *testing.T) {
	const GiB = 1 << 30
	types := []memType{{deviceLocal, 0}, {hostCoherent, 1}, {hostCoherent | hostCached, 1}, {deviceLocal | hostCoherent, 2}}
	heaps := []uint64{8 * GiB, 16 * GiB, GiB / 4}
	staging := []vk.MemoryPropertyFlags{hostCoherent | hostCached, hostCoherent}
	device := []vk.MemoryPropertyFlags{deviceLocal, 0}
	for _, tc := range []struct {
		name  string
		bits  uint32
		prefs []vk.MemoryPropertyFlags
		used  []uint64
		size  uint64
		want  uint32
		err   string
	}{
		{"staging takes cached and coherent", 0xf, staging, []uint64{0, 0, 0}, 1 << 20, 2, ""},
		{"staging without a cached type", 0xb, staging, []uint64{0, 0, 0}, 1 << 20, 1, ""},
		{"staging in the device-local window", 0x9, staging, []uint64{0, 0, 0}, 1 << 20, 3, ""},
		{"staging never takes VRAM the host cannot map", 0x1, staging, []uint64{0, 0, 0}, 1 << 20, 0, "no memory type"},
		{"a buffer takes VRAM", 0xf, device, []uint64{0, 0, 0}, GiB, 0, ""},
		{"VRAM full: another device-local heap", 0xf, device, []uint64{8 * GiB, 0, 0}, GiB / 8, 3, ""},
		{"all device-local full: any memory", 0xf, device, []uint64{8 * GiB, 0, GiB / 4}, GiB, 1, ""},
		{"all full", 0x1, device, []uint64{8*GiB - 1, 0, 0}, 2, 0, "holds 8.00 GiB and 8.00 GiB are in use"},
	} {
		got, err := chooseMemory(types, heaps, tc.used, tc.bits, tc.prefs, tc.size)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: type %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	_, err := chooseMemory(types, heaps, []uint64{8 * GiB, 16 * GiB, GiB / 4}, 0xf, device, 1)
	var ve *Error
	if !errors.As(err, &ve) || !ve.OutOfMemory() {
		t.Errorf("a full device is out of device memory: %v", err)
	}
}
