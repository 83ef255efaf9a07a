#!/usr/bin/env bash
# gpu-check.sh: a prepared check of vknn on a machine with a real Vulkan
# GPU, in one report, within a time budget.
#
#   scripts/gpu-check.sh --build DIR       build the binaries into DIR (here, with Go) and stop
#   scripts/gpu-check.sh --bin DIR [opts]  run the check with the binaries in DIR
#   scripts/gpu-check.sh [opts]            build into a temporary folder, then run
#
# Options: --gpu N (device index, default 0), --data PATH (what train
# --data reads, e.g. CIFAR-10's archive or its 16 MB JPEG copy; without it
# the run is skipped), --minutes M (training run, default 2), --budget S
# (seconds for everything, default 480), --report FILE (default
# gpu-check-report.txt).
#
# Phases, each capped and cut short (SIGINT, so that train saves) when the
# budget runs out: the device list; the GPU tests (validation layer on when
# installed) on device N; bench peak, conv3x3 and step; a training run. The
# report is written as each phase ends, so a check cut short still leaves
# what it measured.
set -uo pipefail

bin="" build="" gpu=0 data="" minutes=2 budget=480 report="gpu-check-report.txt"
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin="$2"; shift 2 ;;
	--build) build="$2"; shift 2 ;;
	--gpu) gpu="$2"; shift 2 ;;
	--data) data="$2"; shift 2 ;;
	--minutes) minutes="$2"; shift 2 ;;
	--budget) budget="$2"; shift 2 ;;
	--report) report="$2"; shift 2 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

# The binaries: the commands and the GPU packages' test binaries.
build_into() {
	local dir="$1"
	mkdir -p "$dir" || return 1
	local top
	top=$(cd "$(dirname "$0")/.." && pwd)
	(cd "$top" &&
		go build -o "$dir/bench" ./cmd/bench &&
		go build -o "$dir/train" ./cmd/train &&
		for p in gpu layers nn zoo cmd/train; do
			go test -c -o "$dir/$(basename "$p").test" "./$p" || exit 1
		done)
}
if [ -n "$build" ]; then
	build_into "$build" && echo "gpu-check: binaries in $build" && exit 0
	exit 1
fi
if [ -z "$bin" ]; then
	bin=$(mktemp -d)
	echo "gpu-check: building into $bin"
	build_into "$bin" || { echo "gpu-check: build failed" >&2; exit 1; }
fi
bin=$(cd "$bin" && pwd)

start=$(date +%s)
: >"$report"
say() { echo "$*" | tee -a "$report"; }
elapsed() { echo $(($(date +%s) - start)); }
results=()

# phase NAME CAP CMD...: runs CMD for at most CAP seconds (less if the
# budget is nearly spent; SIGINT first, SIGKILL 15 s later), appending its
# output and outcome to the report.
phase() {
	local name="$1" cap="$2"
	shift 2
	local left=$((budget - $(elapsed) - 5))
	if [ "$left" -lt 10 ]; then
		say "== $name: not run, the budget of ${budget}s is spent"
		results+=("$name: not run (budget)")
		return
	fi
	[ "$cap" -gt "$left" ] && cap=$left
	say "== $name (at most ${cap}s): $*"
	local t0 rc
	t0=$(date +%s)
	timeout -s INT -k 15 "$cap" "$@" 2>&1 | tee -a "$report"
	rc=${PIPESTATUS[0]}
	local took=$(($(date +%s) - t0)) outcome="ok"
	case "$rc" in
	0) ;;
	124|130|137) outcome="cut at ${cap}s" ;;
	*) outcome="failed (exit $rc)" ;;
	esac
	say "== $name: $outcome in ${took}s"
	results+=("$name: $outcome in ${took}s")
}

summary() {
	say ""
	say "== summary ($(elapsed)s of a ${budget}s budget)"
	for r in "${results[@]}"; do say "  $r"; done
}
trap 'say "== cut by a signal"; summary; exit 130' INT TERM

say "vknn gpu-check, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sm), device $gpu, budget ${budget}s"
phase devices 20 "$bin/bench" devices

# The GPU tests on device N, with the validation layer where it is
# installed (testgpu fails on any message).
validate=1
if ! "$bin/bench" peak --tiny --validate --gpu "$gpu" >/dev/null 2>&1; then
	validate=0
	say "(the Khronos validation layer is not installed: the tests run without it)"
fi
for t in gpu layers nn zoo train; do
	phase "tests: $t" 150 env VKNN_TEST_GPU="$gpu" VKNN_VALIDATE=$validate VKNN_TEST_VALIDATE=$validate \
		"$bin/$t.test" -test.count=1 -test.short -test.timeout=10m
done

phase "bench peak" 60 "$bin/bench" peak --gpu "$gpu"
phase "bench conv3x3" 90 "$bin/bench" conv3x3 --gpu "$gpu"
phase "bench step" 90 "$bin/bench" step --gpu "$gpu"

if [ -n "$data" ]; then
	out=$(mktemp -d)
	phase "train ${minutes} min" $((60 * minutes)) "$bin/train" --gpu "$gpu" --data "$data" --out "$out" --epochs 1000
else
	say "== train: not run (no --data)"
	results+=("train: not run (no --data)")
fi
summary
