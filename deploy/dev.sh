#!/usr/bin/env bash
# Sextant developer entry point on a Debian machine (root, or a user with sudo).
#   deploy/dev.sh demo [SNAPSHOT]  install what is missing, build, replay a snapshot
#                                  (default: the bundled test/data/snapshots/default.json)
#   deploy/dev.sh demo live [--keep]
#                                  install what is missing, build, start a local control plane
#                                  (etcd, kube-apiserver, engine, sextant-scheduler) and play the
#                                  mixed GPU cluster scenario on it (plugin-shim/cmd/sextant-demo)
#   deploy/dev.sh test             install what is missing, build, run every test (the Go tests
#                                  with -race), then the clang build (build-fuzz/, see fuzz
#                                  below): the C++ suite under ASan+UBSan and each fuzz target
#                                  for 5 s; then the concurrency tests under TSan (build-tsan/).
#                                  Any sanitizer or race report fails the run. For a quicker
#                                  local run SEXTANT_ASAN=0 leaves out the clang build and
#                                  SEXTANT_SANITIZERS=0 the TSan build and -race.
#   deploy/dev.sh build            install what is missing and build only
#   deploy/dev.sh fuzz [RUNS] [TARGET...]
#                                  build the libFuzzer targets (clang, build-fuzz/) and run each
#                                  (or the named ones) for RUNS executions (default 1000000);
#                                  new inputs go to build-fuzz/fuzz-corpus/<target>/, crashes to
#                                  build-fuzz/fuzz-crashes/, logs to build-fuzz/fuzz-logs/
# Build output goes to build/ (override with SEXTANT_BUILD_DIR).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SEXTANT_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages the engine builds and tests with.
packages=(
  build-essential cmake ninja-build pkg-config
  libabsl-dev nlohmann-json3-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libre2-dev  # CEL matches() in DRA selectors
  clang-14 libclang-rt-14-dev
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The shim builds against k8s.io/kubernetes v1.37, which needs Go 1.26 or newer (the machine's
# own Go; Debian's golang-go is too old). Modules come from the Go module proxy.
check_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "deploy/dev.sh: Go 1.26 or newer is required for plugin-shim (go not found)" >&2
    exit 1
  fi
  local minor
  minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
  if [ "${minor:-0}" -lt 26 ]; then
    echo "deploy/dev.sh: Go 1.26 or newer is required for plugin-shim (found $(go env GOVERSION))" >&2
    exit 1
  fi
}

build() {  # [TARGET...] (default: everything, the benchmarks included)
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$jobs" ${1:+--target "$@"}
}

# The local control plane of the end-to-end tests and the live demo: etcd and kube-apiserver
# built from the upstream modules plugin-shim pins (go.mod's tool directives), and the scheduler.
gobin=$build/go-bin
build_control_plane() {
  (cd "$root/plugin-shim" &&
    go build -o "$gobin/etcd" go.etcd.io/etcd/server/v3 &&
    go build -o "$gobin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver &&
    go build -o "$gobin/sextant-scheduler" ./cmd/sextant-scheduler)
}
control_plane_env() {
  SEXTANT_ETCD_BINARY="$gobin/etcd" SEXTANT_APISERVER_BINARY="$gobin/kube-apiserver" \
    SEXTANT_SCHEDULER_BINARY="$gobin/sextant-scheduler" "$@"
}

# Sanitizer builds: Debug at -O1, no benchmarks (see SEXTANT_SANITIZE in CMakeLists.txt).
sanitizer_build() {  # DIR SANITIZERS [TARGET]
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSEXTANT_SANITIZE="$2" \
    -DSEXTANT_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$1" -j "$jobs" ${3:+--target "$3"}
}

# The clang build with -DSEXTANT_FUZZ=ON: the libFuzzer targets of test/fuzz, and the engine and
# its GoogleTest suite under ASan+UBSan (Debug at -O1). The benchmarks are built here too, so the
# test command keeps them compiling without linking each with LTO in build/ (run them from build/).
fuzz=${SEXTANT_FUZZ_BUILD_DIR:-$root/build-fuzz}
fuzz_build() {
  cmake -S "$root" -B "$fuzz" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
    -DSEXTANT_FUZZ=ON -DSEXTANT_BUILD_BENCHMARKS=ON >/dev/null
  cmake --build "$fuzz" -j "$jobs"
}

# Runs each fuzz target (all by default) for $1 executions from its seeds; prints executions,
# executions per second and the result per target; fails if any target found a crash.
fuzz_run() {  # RUNS [TARGET...]
  local runs=$1 failed=0 target log
  shift
  local targets=("$@")
  if [ ${#targets[@]} -eq 0 ]; then
    for target in "$fuzz"/test/fuzz/*_fuzzer; do targets+=("$(basename "$target" _fuzzer)"); done
  fi
  mkdir -p "$fuzz/fuzz-logs" "$fuzz/fuzz-crashes"
  for target in "${targets[@]}"; do
    log=$fuzz/fuzz-logs/$target.log
    mkdir -p "$fuzz/fuzz-corpus/$target"
    local seeds=("$root/test/fuzz/corpus/$target")
    [ "$target" = snapshot ] && seeds+=("$root/test/data/snapshot_reader")
    local t0=$SECONDS rc=0
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$fuzz/test/fuzz/${target}_fuzzer" -runs="$runs" -seed=1 -print_final_stats=1 \
      -artifact_prefix="$fuzz/fuzz-crashes/$target-" "$fuzz/fuzz-corpus/$target" "${seeds[@]}" \
      >"$log" 2>&1 || rc=$?
    local execs rate
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
      printf '  %-10s %10s execs  %6s exec/s  %5ds  ok\n' "$target" "${execs:-?}" "${rate:-?}" \
        $((SECONDS - t0))
    else
      printf '  %-10s %10s execs  %6s exec/s  %5ds  FAILED (rc %d): see %s\n' "$target" \
        "${execs:-?}" "${rate:-?}" $((SECONDS - t0)) "$rc" "$log"
      failed=1
    fi
  done
  return $failed
}

# Wall-clock time of each stage, printed at the end.
timings=()
stage_start() { stage_name=$1; stage_t0=$SECONDS; echo "==> $1"; }
stage_end() { timings+=("$(printf '%5ds  %s' $((SECONDS - stage_t0)) "$stage_name")"); }
print_timings() {
  echo "==> stage timings (wall clock, $jobs jobs)"
  printf '  %s\n' "${timings[@]}"
}

cmd=${1:-demo}
case "$cmd" in
  demo)
    install_missing
    build sextant
    if [ "${2:-}" = live ]; then
      check_go
      echo "==> building the local control plane (the first build of kube-apiserver takes minutes)"
      build_control_plane
      (cd "$root/plugin-shim" && go build -o "$gobin/sextant-demo" ./cmd/sextant-demo)
      (cd "$root/plugin-shim" && SEXTANT_ENGINE_BINARY="$build/sextant" control_plane_env "$gobin/sextant-demo" "${@:3}")
      exit
    fi
    snapshot=${2:-$root/test/data/snapshots/default.json}
    echo "==> sextant replay $snapshot"
    "$build/sextant" replay "$snapshot" --out "$build/replay-report.json"
    ;;
  test)
    install_missing
    trap print_timings EXIT
    # The engine and the suite; the benchmarks are built (not run) in the clang build below.
    stage_start "build ($build)"
    build sextant sextant_tests sextant_dra_upstream_tests
    stage_end
    stage_start "C++ tests (ctest)"
    (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 300)
    stage_end
    if [ -f "$root/plugin-shim/go.mod" ]; then
      check_go
      race=()
      [ "${SEXTANT_SANITIZERS:-1}" != 0 ] && race=(-race)
      # -count=1: the engine binary changes under the same path, which Go's test cache cannot see.
      stage_start "control-plane binaries (etcd, kube-apiserver, sextant-scheduler)"
      build_control_plane
      stage_end
      stage_start "Go tests ${race[*]:-} (plugin-shim, against the engine just built; e2e on a local control plane)"
      # go test's own vet step with every check (-vet=all) vets each tested package in the race
      # build, so vet compiles nothing twice; the commands (no tests) get go vet.
      (cd "$root/plugin-shim" && go vet ./cmd/... &&
        SEXTANT_ENGINE_BINARY="$build/sextant" control_plane_env \
          go test -count=1 -vet=all "${race[@]}" ./...)
      stage_end
      # Upstream's scheduler_perf workloads at 100-300 nodes, default vs Sextant profile; fails when
      # either profile does not schedule a workload. Its own module (bench/scheduler_perf/go.mod).
      stage_start "scheduler_perf short mode (bench/scheduler_perf: default vs Sextant profile)"
      (cd "$root/bench/scheduler_perf" && go vet . &&
        SEXTANT_ENGINE_BINARY="$build/sextant" PATH="$gobin:$PATH" \
          go test -count=1 -short -run . -bench . -benchtime 1x -timeout 20m . -args -v=0)
      stage_end
    fi
    if [ "${SEXTANT_ASAN:-1}" != 0 ]; then
      # One clang build is both the ASan+UBSan build of the suite and the fuzz build.
      stage_start "build with clang: ASan+UBSan and the fuzz targets ($fuzz)"
      fuzz_build
      stage_end
      stage_start "C++ tests under ASan+UBSan, each fuzz target for 5 s (ctest)"
      (cd "$fuzz" &&
        ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j "$jobs" --timeout 600)
      stage_end
    fi
    if [ "${SEXTANT_SANITIZERS:-1}" != 0 ]; then
      tsan=${SEXTANT_TSAN_BUILD_DIR:-$root/build-tsan}
      stage_start "build with TSan ($tsan, concurrency tests only)"
      sanitizer_build "$tsan" thread sextant_tsan_tests
      stage_end
      stage_start "concurrency tests under TSan (ctest -L tsan)"
      (cd "$tsan" && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        ctest --output-on-failure -L tsan --timeout 600)
      stage_end
    fi
    ;;
  build)
    install_missing
    build
    ;;
  fuzz)
    install_missing
    runs=${2:-1000000}
    trap print_timings EXIT
    stage_start "build the fuzz targets ($fuzz)"
    fuzz_build
    stage_end
    stage_start "fuzz targets, $runs executions each"
    fuzz_run "$runs" "${@:3}"
    stage_end
    ;;
  *)
    echo "usage: deploy/dev.sh demo [SNAPSHOT] | demo live [--keep] | test | build | fuzz [RUNS] [TARGET...]" >&2
    exit 2
    ;;
esac
