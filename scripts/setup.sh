#!/usr/bin/env bash
# Installs what vknn needs to build and test on Debian/Ubuntu: the Vulkan
# loader, Mesa's drivers (lavapipe runs Vulkan on the CPU), the Khronos
# validation layer, glslc and vulkaninfo. Idempotent: installs only what is
# missing. Needs root or sudo for apt-get.
set -euo pipefail

pkgs=(libvulkan1 libvulkan-dev mesa-vulkan-drivers glslc vulkan-tools vulkan-validationlayers)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "setup: need root to run: apt-get install -y ${missing[*]}" >&2; exit 1; }
		sudo=sudo
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
	echo "setup: Go 1.26 or later is needed (https://go.dev/dl/)" >&2
	exit 1
fi
echo "setup: $(go version); $(glslc --version | head -1)"
vulkaninfo --summary 2>/dev/null | grep -E "deviceName|deviceType" || true
