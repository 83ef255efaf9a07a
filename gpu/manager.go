package gpu

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	vk "github.com/vulkan-go/vulkan"
)

// Options configure Open.
type Options struct {
	// Validate enables VK_LAYER_KHRONOS_validation and collects its reports
	// (see Manager.Messages). VKNN_VALIDATE=1 in the environment turns it on too.
	Validate bool
	// Staged takes the path of discrete GPUs on any device: buffers in
	// device-local memory that the host does not map, read and written
	// through a staging buffer. VKNN_STAGED=1 turns it on too (CI runs the
	// tests both ways on lavapipe).
	Staged bool
}

// Manager owns one Vulkan device: its instance, a compute queue, a command
// pool, a pipeline cache, the kernels built on it and the buffers and
// sequences made from it. It is safe for use by one goroutine at a time.
type Manager struct {
	in       *instance
	info     DeviceInfo
	device   vk.Device
	queue    vk.Queue
	family   uint32
	tsBits   uint32
	cmdPool  vk.CommandPool
	cache    vk.PipelineCache
	memProps vk.PhysicalDeviceMemoryProperties

	kernels map[string]*Kernel
	buffers map[*Buffer]struct{}
	seqs    map[*Sequence]struct{}
	xfer    *transfer // staging for devices whose memory the host cannot map

	forceStaging bool // take the discrete-GPU path on any device (Options.Staged)
	noTimestamps bool // fault injection: VKNN_FAULT=no-timestamps
	submits      int  // of sequences
	loseAfter    int  // fault injection: VKNN_FAULT=device-lost:N fails sequence submissions after the Nth
	heapUsed     [16]uint64

	mu     sync.Mutex
	closed bool
}

// Open creates a Manager on the device at index in Devices().
func Open(index int, opts Options) (*Manager, error) {
	validate := opts.Validate || os.Getenv("VKNN_VALIDATE") == "1"
	in, err := newInstance(validate)
	if err != nil {
		return nil, err
	}
	m := &Manager{in: in, kernels: map[string]*Kernel{},
		buffers: map[*Buffer]struct{}{}, seqs: map[*Sequence]struct{}{},
		forceStaging: opts.Staged || os.Getenv("VKNN_STAGED") == "1"}
	// Fault injection for tests of what programs do when the device is
	// lost or has no timestamps, which no driver can be made to do on
	// demand.
	switch f := os.Getenv("VKNN_FAULT"); {
	case f == "":
	case f == "no-timestamps":
		m.noTimestamps = true
	default:
		if _, err := fmt.Sscanf(f, "device-lost:%d", &m.loseAfter); err != nil || m.loseAfter < 1 {
			in.destroy()
			return nil, fmt.Errorf("gpu: VKNN_FAULT=%q: want device-lost:N with N >= 1, or no-timestamps", f)
		}
	}
	if err := m.init(index); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Manager) init(index int) error {
	devs, err := listDevices(m.in)
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		return errors.New("gpu: no Vulkan device found; install a driver " +
			"(e.g. `apt-get install mesa-vulkan-drivers` for lavapipe, the CPU driver, " +
			"or your GPU vendor's Vulkan driver)")
	}
	if index < 0 || index >= len(devs) {
		return fmt.Errorf("gpu: device index %d is out of range: %s", index, describeAll(devs))
	}
	m.info = devs[index]
	pd := m.info.physical

	if m.family, m.tsBits, err = computeFamily(pd); err != nil {
		return fmt.Errorf("%w on %s", err, m.info.Name)
	}
	prio, freePrio := cCopy([]float32{1})
	defer freePrio()
	dinfo := vk.DeviceCreateInfo{
		SType:                vk.StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos: []vk.DeviceQueueCreateInfo{{
			SType:            vk.StructureTypeDeviceQueueCreateInfo,
			QueueFamilyIndex: m.family,
			QueueCount:       1,
			PQueuePriorities: prio,
		}},
	}
	var dev vk.Device
	defer runtime.KeepAlive(&dinfo) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreateDevice(pd, &dinfo, nil, &dev), "vkCreateDevice"); err != nil {
		return err
	}
	m.device = dev
	var q vk.Queue
	vk.GetDeviceQueue(dev, m.family, 0, &q)
	m.queue = q

	vk.GetPhysicalDeviceMemoryProperties(pd, &m.memProps)
	m.memProps.Deref()
	for i := uint32(0); i < m.memProps.MemoryTypeCount; i++ {
		m.memProps.MemoryTypes[i].Deref()
	}
	for i := uint32(0); i < m.memProps.MemoryHeapCount; i++ {
		m.memProps.MemoryHeaps[i].Deref()
	}

	pool := vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: m.family,
	}
	var cp vk.CommandPool
	defer runtime.KeepAlive(&pool) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreateCommandPool(dev, &pool, nil, &cp), "vkCreateCommandPool"); err != nil {
		return err
	}
	m.cmdPool = cp
	cache := vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}
	var pc vk.PipelineCache
	defer runtime.KeepAlive(&cache) // keeps the binding's C copy alive (direct.go)
	err = check(vk.CreatePipelineCache(dev, &cache, nil, &pc), "vkCreatePipelineCache")
	m.cache = pc
	return err
}

// computeFamily picks a queue family that supports compute, preferring one
// with timestamps.
func computeFamily(pd vk.PhysicalDevice) (family, tsBits uint32, err error) {
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, nil)
	props := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, props)
	best := -1
	for i := range props[:n] {
		props[i].Deref()
		if props[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) == 0 {
			continue
		}
		if best < 0 || (props[best].TimestampValidBits == 0 && props[i].TimestampValidBits > 0) {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, errors.New("gpu: no queue family supports compute")
	}
	return uint32(best), props[best].TimestampValidBits, nil
}

// Info describes the device this Manager drives.
func (m *Manager) Info() DeviceInfo { return m.info }

// HasTimestamps reports whether the compute queue can time dispatches.
func (m *Manager) HasTimestamps() bool {
	return m.tsBits > 0 && m.info.TimestampPeriodNs > 0 && !m.noTimestamps
}

// Live counts what this Manager holds now: buffers, sequences, kernels,
// and bytes of device memory. Tests use it to check that nothing leaks.
func (m *Manager) Live() (buffers, sequences, kernels int, bytes uint64) {
	for _, u := range m.heapUsed {
		bytes += u
	}
	return len(m.buffers), len(m.seqs), len(m.kernels), bytes
}

// Messages returns the validation layer's reports so far (none when
// validation is off).
func (m *Manager) Messages() []Message { return m.in.messages() }

// Close waits for the device to finish and releases everything made from
// this Manager, in reverse order of creation. It is safe to call twice.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	if m.device != nil {
		err = check(vk.DeviceWaitIdle(m.device), "vkDeviceWaitIdle")
		for s := range m.seqs {
			s.release()
		}
		for b := range m.buffers {
			b.release()
		}
		if m.xfer != nil {
			m.xfer.release(m)
		}
		for _, k := range m.kernels {
			k.release(m.device)
		}
		if m.cache != vk.NullPipelineCache {
			vk.DestroyPipelineCache(m.device, m.cache, nil)
		}
		if m.cmdPool != vk.NullCommandPool {
			vk.DestroyCommandPool(m.device, m.cmdPool, nil)
		}
		vk.DestroyDevice(m.device, nil)
		m.device = nil
	}
	if m.in != nil {
		m.in.destroy()
	}
	return err
}

// alive returns an error once the Manager is closed.
func (m *Manager) alive() error {
	if m.closed {
		return errors.New("gpu: the Manager is closed")
	}
	return nil
}
