// Package shaders holds vknn's GLSL compute shaders and the SPIR-V that
// glslc makes of them, embedded in the binary.
//
// Each name.comp is compiled to name.spv with
//
//	glslc --target-env=vulkan1.1 -O name.comp -o name.spv
//
// by `go generate ./shaders`; the .spv files are committed so that
// building vknn needs no shader compiler.
package shaders

import "embed"

//go:generate sh gen.sh

//go:embed *.spv
var files embed.FS

// Code returns the SPIR-V of the named shader (file name without .spv), or
// nil if there is none.
func Code(name string) []byte {
	b, err := files.ReadFile(name + ".spv")
	if err != nil {
		return nil
	}
	return b
}

// Names lists the embedded shaders.
func Names() []string {
	entries, _ := files.ReadDir(".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name()[:len(e.Name())-len(".spv")])
	}
	return names
}
