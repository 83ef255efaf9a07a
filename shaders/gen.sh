#!/bin/sh
# Compiles every compute shader here to SPIR-V (run by `go generate ./shaders`).
set -e
cd "$(dirname "$0")"
for src in *.comp; do
	glslc --target-env=vulkan1.1 -O "$src" -o "${src%.comp}.spv"
done
