package gpu

import (
	"encoding/binary"
	"fmt"
)

// SPIR-V opcodes, decorations and storage classes that bindingAccess reads.
const (
	spvMagic            = 0x07230203
	opTypeStruct        = 30
	opTypePointer       = 32
	opVariable          = 59
	opDecorate          = 71
	opMemberDecorate    = 72
	decNonWritable      = 24
	decNonReadable      = 25
	decBinding          = 33
	storageUniformConst = 0
	storageUniform      = 2
	storageStorageBuffr = 12
)

// BindingAccess reads from SPIR-V how a shader may use each of its
// buffer bindings (descriptor set 0): 't' for a uniform texel buffer
// (samplerBuffer, the only UniformConstant variable vknn's shaders bind),
// else 'r' if every variable bound there is NonWritable, 'w' if every one
// is NonReadable, and 'b'. The
// result is indexed by binding and must cover 0, 1, ... without gaps.
func BindingAccess(code []byte) (string, error) {
	if len(code) < 20 || len(code)%4 != 0 || binary.LittleEndian.Uint32(code) != spvMagic {
		return "", fmt.Errorf("gpu: not SPIR-V")
	}
	w := make([]uint32, len(code)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	binding := map[uint32]uint32{}         // variable -> binding
	varDec := map[uint32]map[uint32]bool{} // variable -> its decorations
	members := map[uint32]map[uint32]int{} // struct -> decoration -> members with it
	nMembers := map[uint32]int{}           // struct -> member count
	pointee := map[uint32]uint32{}         // pointer type -> pointee
	vars := map[uint32]uint32{}            // storage-buffer variable -> its pointer type
	texel := map[uint32]bool{}             // samplerBuffer variable
	for i := 5; i < len(w); {
		n, op := int(w[i]>>16), w[i]&0xffff
		if n == 0 || i+n > len(w) {
			return "", fmt.Errorf("gpu: SPIR-V instruction at word %d runs past the end", i)
		}
		a := w[i+1 : i+n]
		switch {
		case op == opDecorate && len(a) >= 2:
			if varDec[a[0]] == nil {
				varDec[a[0]] = map[uint32]bool{}
			}
			varDec[a[0]][a[1]] = true
			if a[1] == decBinding && len(a) >= 3 {
				binding[a[0]] = a[2]
			}
		case op == opMemberDecorate && len(a) >= 3:
			if members[a[0]] == nil {
				members[a[0]] = map[uint32]int{}
			}
			members[a[0]][a[2]]++
		case op == opTypeStruct && len(a) >= 1:
			nMembers[a[0]] = len(a) - 1
		case op == opTypePointer && len(a) >= 3:
			pointee[a[0]] = a[2]
		case op == opVariable && len(a) >= 3 && (a[2] == storageStorageBuffr || a[2] == storageUniform):
			vars[a[1]] = a[0]
		case op == opVariable && len(a) >= 3 && a[2] == storageUniformConst:
			texel[a[1]] = true
		}
		i += n
	}
	// has tells whether variable v carries decoration d, itself or on
	// every member of its block.
	has := func(v, d uint32) bool {
		if varDec[v][d] {
			return true
		}
		s := pointee[vars[v]]
		return nMembers[s] > 0 && members[s][d] == nMembers[s]
	}
	readOnly, writeOnly, isTexel := map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}
	seen := map[uint32]bool{}
	for v := range texel {
		if b, ok := binding[v]; ok {
			seen[b], isTexel[b] = true, true
		}
	}
	for v := range vars {
		b, ok := binding[v]
		if !ok {
			continue
		}
		if isTexel[b] {
			return "", fmt.Errorf("gpu: binding %d holds both a texel buffer and a storage buffer", b)
		}
		if !seen[b] {
			seen[b], readOnly[b], writeOnly[b] = true, true, true
		}
		readOnly[b] = readOnly[b] && has(v, decNonWritable)
		writeOnly[b] = writeOnly[b] && has(v, decNonReadable)
	}
	access := make([]byte, len(seen))
	for b := range access {
		switch {
		case !seen[uint32(b)]:
			return "", fmt.Errorf("gpu: the shader's bindings are not 0..%d: %d is missing", len(seen)-1, b)
		case isTexel[uint32(b)]:
			access[b] = 't'
		case readOnly[uint32(b)]:
			access[b] = 'r'
		case writeOnly[uint32(b)]:
			access[b] = 'w'
		default:
			access[b] = 'b'
		}
	}
	return string(access), nil
}
