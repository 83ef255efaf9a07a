package gpu

import (
	"fmt"
	"sort"
	"strings"

	vk "github.com/vulkan-go/vulkan"
)

// DeviceInfo describes one Vulkan physical device and the limits that
// compute kernels depend on.
type DeviceInfo struct {
	Index            int    // position in Devices(): what --gpu N means
	Name             string // e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Type             string // "discrete", "integrated", "virtual", "cpu" or "other"
	VendorID         uint32
	Vendor           string
	DriverName       string // from Vulkan 1.2 driver properties, when the device has them
	DriverInfo       string
	DriverVersion    string
	APIVersion       string
	DeviceLocalBytes uint64 // sum of the device-local heaps

	MaxWorkgroupSize        [3]uint32
	MaxWorkgroupInvocations uint32
	MaxWorkgroupCount       [3]uint32
	SharedMemoryBytes       uint32
	MaxStorageBufferRange   uint32
	MaxTexelBytes           uint64 // the largest texel-buffer view ('t' binding): maxTexelBufferElements vec4s
	MinTexelOffset          uint64 // a 't' binding's offset must be a multiple of this (minTexelBufferOffsetAlignment)
	MaxPushConstantsBytes   uint32
	SubgroupSize            uint32  // 0 where the device is older than Vulkan 1.1
	SubgroupShuffle         bool    // compute shaders have subgroup shuffles, relative ones too
	TimestampPeriodNs       float32 // nanoseconds per timestamp tick

	physical         vk.PhysicalDevice
	api              uint32
	minStorageOffset uint64 // minStorageBufferOffsetAlignment
}

func (d DeviceInfo) String() string {
	return fmt.Sprintf("%d: %s [%s]", d.Index, d.Name, d.Type)
}

// The Vulkan bits for compute shaders and for the subgroup shuffle and
// relative-shuffle operations.
const (
	computeStage = 0x20
	shuffleOps   = 0x10 | 0x20
)

var typeRank = map[vk.PhysicalDeviceType]int{
	vk.PhysicalDeviceTypeDiscreteGpu:   0,
	vk.PhysicalDeviceTypeIntegratedGpu: 1,
	vk.PhysicalDeviceTypeVirtualGpu:    2,
	vk.PhysicalDeviceTypeCpu:           3,
	vk.PhysicalDeviceTypeOther:         4,
}

var typeNames = map[vk.PhysicalDeviceType]string{
	vk.PhysicalDeviceTypeDiscreteGpu:   "discrete",
	vk.PhysicalDeviceTypeIntegratedGpu: "integrated",
	vk.PhysicalDeviceTypeVirtualGpu:    "virtual",
	vk.PhysicalDeviceTypeCpu:           "cpu",
	vk.PhysicalDeviceTypeOther:         "other",
}

var vendorNames = map[uint32]string{
	0x1002: "AMD", 0x1010: "ImgTec", 0x10de: "NVIDIA", 0x13b5: "ARM",
	0x5143: "Qualcomm", 0x8086: "Intel", 0x106b: "Apple", 0x10005: "Mesa",
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}

// driverVersionString decodes the vendor-specific packing of driverVersion.
func driverVersionString(vendor, v uint32) string {
	switch vendor {
	case 0x10de: // NVIDIA: 10.8.8.6 bits
		return fmt.Sprintf("%d.%d.%d.%d", v>>22, (v>>14)&0xff, (v>>6)&0xff, v&0x3f)
	case 0x8086: // Intel on Windows packs 18.14; elsewhere the standard packing
		return versionString(v)
	default:
		return versionString(v)
	}
}

// Devices lists every Vulkan physical device: discrete GPUs first, then
// integrated, virtual and CPU devices, each group in the driver's order.
func Devices() ([]DeviceInfo, error) {
	in, err := newInstance(false)
	if err != nil {
		return nil, err
	}
	defer in.destroy()
	return listDevices(in)
}

func listDevices(in *instance) ([]DeviceInfo, error) {
	var n uint32
	if err := check(vk.EnumeratePhysicalDevices(in.handle, &n, nil), "vkEnumeratePhysicalDevices"); err != nil {
		return nil, err
	}
	pds := make([]vk.PhysicalDevice, n)
	if n > 0 {
		if err := check(vk.EnumeratePhysicalDevices(in.handle, &n, pds), "vkEnumeratePhysicalDevices"); err != nil {
			return nil, err
		}
	}
	type ranked struct {
		info DeviceInfo
		rank int
	}
	var all []ranked
	for _, pd := range pds[:n] {
		info, dt := describe(in, pd)
		all = append(all, ranked{info, typeRank[dt]})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].rank < all[j].rank })
	out := make([]DeviceInfo, len(all))
	for i, r := range all {
		r.info.Index = i
		out[i] = r.info
	}
	return out, nil
}

func describe(in *instance, pd vk.PhysicalDevice) (DeviceInfo, vk.PhysicalDeviceType) {
	var p vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &p)
	p.Deref()
	p.Limits.Deref()
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mem)
	mem.Deref()
	var local uint64
	for i := uint32(0); i < mem.MemoryHeapCount; i++ {
		mem.MemoryHeaps[i].Deref()
		if mem.MemoryHeaps[i].Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0 {
			local += uint64(mem.MemoryHeaps[i].Size)
		}
	}
	api := p.ApiVersion
	if in.api < api {
		api = in.api // what this instance lets us use
	}
	extra := queryProps2(in.handle, pd, api)
	l := p.Limits
	info := DeviceInfo{
		Name:                    vk.ToString(p.DeviceName[:]),
		Type:                    typeNames[p.DeviceType],
		VendorID:                p.VendorID,
		Vendor:                  vendorNames[p.VendorID],
		DriverName:              extra.driverName,
		DriverInfo:              extra.driverInfo,
		DriverVersion:           driverVersionString(p.VendorID, p.DriverVersion),
		APIVersion:              versionString(p.ApiVersion),
		DeviceLocalBytes:        local,
		MaxWorkgroupSize:        l.MaxComputeWorkGroupSize,
		MaxWorkgroupInvocations: l.MaxComputeWorkGroupInvocations,
		MaxWorkgroupCount:       l.MaxComputeWorkGroupCount,
		SharedMemoryBytes:       l.MaxComputeSharedMemorySize,
		MaxStorageBufferRange:   l.MaxStorageBufferRange,
		MaxTexelBytes:           16 * uint64(l.MaxTexelBufferElements),
		MinTexelOffset:          max(uint64(l.MinTexelBufferOffsetAlignment), 1),
		MaxPushConstantsBytes:   l.MaxPushConstantsSize,
		SubgroupSize:            extra.subgroupSize,
		SubgroupShuffle:         extra.subgroupStages&computeStage != 0 && extra.subgroupOps&shuffleOps == shuffleOps,
		TimestampPeriodNs:       l.TimestampPeriod,
		physical:                pd,
		api:                     api,
		minStorageOffset:        max(uint64(l.MinStorageBufferOffsetAlignment), 1),
	}
	if info.Vendor == "" {
		info.Vendor = fmt.Sprintf("0x%04x", p.VendorID)
	}
	if info.Type == "" {
		info.Type = "other"
	}
	return info, p.DeviceType
}

// FormatDevices renders the device list as an aligned table with the
// compute limits, one device per block.
func FormatDevices(devs []DeviceInfo) string {
	var b strings.Builder
	for _, d := range devs {
		fmt.Fprintf(&b, "%d: %s\n", d.Index, d.Name)
		fmt.Fprintf(&b, "   type %s, vendor %s, driver %s %s (%s), Vulkan %s\n",
			d.Type, d.Vendor, d.DriverName, d.DriverVersion, d.DriverInfo, d.APIVersion)
		fmt.Fprintf(&b, "   device-local memory %.1f GiB, max storage buffer %d MiB\n",
			float64(d.DeviceLocalBytes)/(1<<30), d.MaxStorageBufferRange>>20)
		shuffles := "no shuffles"
		if d.SubgroupShuffle {
			shuffles = "shuffles"
		}
		fmt.Fprintf(&b, "   workgroup: max size %v, max invocations %d, shared memory %d B, subgroup %d (%s)\n",
			d.MaxWorkgroupSize, d.MaxWorkgroupInvocations, d.SharedMemoryBytes, d.SubgroupSize, shuffles)
		fmt.Fprintf(&b, "   max workgroup count %v, push constants %d B, timestamp period %g ns\n",
			d.MaxWorkgroupCount, d.MaxPushConstantsBytes, d.TimestampPeriodNs)
	}
	return b.String()
}

// describeAll is the one-line-per-device list used in error messages.
func describeAll(devs []DeviceInfo) string {
	if len(devs) == 0 {
		return "no Vulkan devices were found"
	}
	parts := make([]string, len(devs))
	for i, d := range devs {
		parts[i] = d.String()
	}
	return fmt.Sprintf("%d device(s) found: %s", len(devs), strings.Join(parts, "; "))
}
