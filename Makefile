# vknn: `make test` sets up this machine (Debian/Ubuntu) and runs every test
# with the Vulkan validation layer on.

# lavapipe, Mesa's CPU driver, when no other device is selected.
LAVAPIPE ?= $(wildcard /usr/share/vulkan/icd.d/lvp_icd.*.json)

.PHONY: setup test test-cgocheck test-matrix shaders devices

setup:
	bash scripts/setup.sh

test: setup
	go vet ./...
	VKNN_VALIDATE=1 go test ./...

# The runtime again with cgo's strictest pointer checks: C must keep no Go
# pointer.
test-cgocheck: setup
	GOEXPERIMENT=cgocheck2 VKNN_VALIDATE=1 go test -count=1 ./gpu/

# The whole-model tests (GPU against CPU reference, exact resume, the
# smoke run) on the paths real GPUs take, on lavapipe: memory mapped or
# staged (device-local, through a staging buffer) x conv v2, v3 or v4 x
# subgroups of 4, 8 and 16 (LP_NATIVE_VECTOR_WIDTH 128, 256, 512), with
# the validation layer, and its synchronization validation in one cell.
MODEL_TESTS = TestConfigFromEnv|TestGPUMatchesCPU|TestResNet20FiveSteps|TestEveryLayer|TestExampleGPU|TestResumeIsExact|TestSmoke|TestNonFiniteState|TestDivergenceStops
test-matrix: setup
	set -e; for width in 128 256 512; do for staged in 0 1; do for conv in v2 v3 v4; do \
		sync=""; if [ $$width = 256 ] && [ $$staged = 1 ] && [ $$conv = v4 ]; then \
			sync=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT; fi; \
		echo "== subgroup width $$width, staged $$staged, conv $$conv, sync validation $${sync:-off}"; \
		LP_NATIVE_VECTOR_WIDTH=$$width VKNN_STAGED=$$staged VKNN_CONV=$$conv VK_LAYER_ENABLES=$$sync VKNN_VALIDATE=1 \
			go test -count=1 -run '$(MODEL_TESTS)' ./gpu ./zoo ./nn ./cmd/train; \
	done; done; done
	set -e; for width in 128 256 512; do \
		echo "== convolution and batch-norm kernels (v1-v4) against the CPU, subgroup width $$width"; \
		LP_NATIVE_VECTOR_WIDTH=$$width VKNN_VALIDATE=1 go test -count=1 -run 'TestConvGPU|TestBatchNorm|TestTexelBinding' ./layers ./gpu; \
	done

shaders:
	go generate ./shaders

devices:
	go run ./cmd/bench devices
