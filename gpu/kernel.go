package gpu

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"

	vk "github.com/vulkan-go/vulkan"
)

// KernelSpec describes a compute shader and its interface.
type KernelSpec struct {
	Name string // for caching, errors and timings
	Code []byte // SPIR-V, entry point "main"
	// Access has one letter per buffer binding (0, 1, ...): 'r' the
	// shader only reads it, 'w' only writes it, 'b' both (storage
	// buffers); 't' it reads it as a uniform texel buffer of vec4s
	// (samplerBuffer, texelFetch; RGBA32F: lavapipe gathers those with
	// vector instructions where it loads a storage buffer lane by lane).
	// Sequences use it to place barriers. It must match the shader's NonWritable and
	// NonReadable decorations (BindingAccess); empty takes them.
	Access    string
	PushBytes uint32   // size of the push-constant block, 0 for none
	Spec      []uint32 // specialization constants with ids 0, 1, ...
}

func (s KernelSpec) key() string { return fmt.Sprintf("%s%v", s.Name, s.Spec) }

// Kernel is a compute pipeline with its layouts, built once per device.
type Kernel struct {
	spec      KernelSpec
	module    vk.ShaderModule
	setLayout vk.DescriptorSetLayout
	layout    vk.PipelineLayout
	pipeline  vk.Pipeline
}

// Name is the kernel's name from its spec.
func (k *Kernel) Name() string { return k.spec.Name }

// Kernel returns the pipeline for spec, building it on first use.
func (m *Manager) Kernel(spec KernelSpec) (*Kernel, error) {
	if err := m.alive(); err != nil {
		return nil, err
	}
	if k, ok := m.kernels[spec.key()]; ok {
		return k, nil
	}
	if strings.Trim(spec.Access, "rwbt") != "" {
		return nil, fmt.Errorf("gpu: kernel %s: access %q must use only r, w, b and t", spec.Name, spec.Access)
	}
	if len(spec.Code) == 0 || len(spec.Code)%4 != 0 || binary.LittleEndian.Uint32(spec.Code) != 0x07230203 {
		return nil, fmt.Errorf("gpu: kernel %s: code is not SPIR-V", spec.Name)
	}
	access, err := BindingAccess(spec.Code)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", spec.Name, err)
	}
	switch {
	case spec.Access == "":
		spec.Access = access
	case spec.Access != access:
		return nil, fmt.Errorf("gpu: kernel %s: access %q, but the shader's bindings are %q (r: read only, w: write only, b: both); "+
			"a wrong letter misplaces barriers", spec.Name, spec.Access, access)
	}
	if spec.PushBytes > m.info.MaxPushConstantsBytes {
		return nil, fmt.Errorf("gpu: kernel %s: %d bytes of push constants, device allows %d",
			spec.Name, spec.PushBytes, m.info.MaxPushConstantsBytes)
	}
	k := &Kernel{spec: spec}
	if err := k.build(m); err != nil {
		k.release(m.device)
		return nil, fmt.Errorf("kernel %s: %w", spec.Name, err)
	}
	m.kernels[spec.key()] = k
	return k, nil
}

func (k *Kernel) build(m *Manager) error {
	dev := m.device
	code, freeCode := cSlice[uint32](len(k.spec.Code) / 4)
	defer freeCode()
	for i := range code {
		code[i] = binary.LittleEndian.Uint32(k.spec.Code[4*i:])
	}
	mod := vk.ShaderModuleCreateInfo{
		SType:    vk.StructureTypeShaderModuleCreateInfo,
		CodeSize: uint(len(k.spec.Code)),
		PCode:    code,
	}
	var module vk.ShaderModule
	defer runtime.KeepAlive(&mod) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreateShaderModule(dev, &mod, nil, &module), "vkCreateShaderModule"); err != nil {
		return err
	}
	k.module = module

	bindings := make([]vk.DescriptorSetLayoutBinding, len(k.spec.Access))
	for i := range bindings {
		bindings[i] = vk.DescriptorSetLayoutBinding{
			Binding:         uint32(i),
			DescriptorType:  descriptorType(k.spec.Access[i]),
			DescriptorCount: 1,
			StageFlags:      vk.ShaderStageFlags(vk.ShaderStageComputeBit),
		}
	}
	dsl := vk.DescriptorSetLayoutCreateInfo{
		SType:        vk.StructureTypeDescriptorSetLayoutCreateInfo,
		BindingCount: uint32(len(bindings)),
		PBindings:    bindings,
	}
	var setLayout vk.DescriptorSetLayout
	defer runtime.KeepAlive(&dsl) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreateDescriptorSetLayout(dev, &dsl, nil, &setLayout), "vkCreateDescriptorSetLayout"); err != nil {
		return err
	}
	k.setLayout = setLayout

	sets, freeSets := cCopy([]vk.DescriptorSetLayout{k.setLayout})
	defer freeSets()
	pl := vk.PipelineLayoutCreateInfo{
		SType:          vk.StructureTypePipelineLayoutCreateInfo,
		SetLayoutCount: 1,
		PSetLayouts:    sets,
	}
	if k.spec.PushBytes > 0 {
		pl.PushConstantRangeCount = 1
		pl.PPushConstantRanges = []vk.PushConstantRange{{
			StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit),
			Size:       k.spec.PushBytes,
		}}
	}
	var layout vk.PipelineLayout
	defer runtime.KeepAlive(&pl) // keeps the binding's C copy alive (direct.go)
	if err := check(vk.CreatePipelineLayout(dev, &pl, nil, &layout), "vkCreatePipelineLayout"); err != nil {
		return err
	}
	k.layout = layout

	pipe, res := m.in.direct.createComputePipeline(dev, m.cache, k.module, k.layout, k.spec.Spec)
	if err := check(res, "vkCreateComputePipelines"); err != nil {
		return err
	}
	k.pipeline = pipe
	return nil
}

func (k *Kernel) release(dev vk.Device) {
	if k.pipeline != vk.NullPipeline {
		vk.DestroyPipeline(dev, k.pipeline, nil)
	}
	if k.layout != vk.NullPipelineLayout {
		vk.DestroyPipelineLayout(dev, k.layout, nil)
	}
	if k.setLayout != vk.NullDescriptorSetLayout {
		vk.DestroyDescriptorSetLayout(dev, k.setLayout, nil)
	}
	if k.module != vk.NullShaderModule {
		vk.DestroyShaderModule(dev, k.module, nil)
	}
}

// descriptorType is the descriptor type of a binding with access letter a.
func descriptorType(a byte) vk.DescriptorType {
	if a == 't' {
		return vk.DescriptorTypeUniformTexelBuffer
	}
	return vk.DescriptorTypeStorageBuffer
}
