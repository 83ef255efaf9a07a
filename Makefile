# vknn: `make test` sets up this machine (Debian/Ubuntu) and runs every test
# with the Vulkan validation layer on.

# lavapipe, Mesa's CPU driver, when no other device is selected.
LAVAPIPE ?= $(wildcard /usr/share/vulkan/icd.d/lvp_icd.*.json)

.PHONY: setup test test-cgocheck shaders devices

setup:
	bash scripts/setup.sh

test: setup
	go vet ./...
	VKNN_VALIDATE=1 go test ./...

# The runtime again with cgo's strictest pointer checks: C must keep no Go
# pointer.
test-cgocheck: setup
	GOEXPERIMENT=cgocheck2 VKNN_VALIDATE=1 go test -count=1 ./gpu/

shaders:
	go generate ./shaders

devices:
	go run ./cmd/bench devices
