#!/usr/bin/env bash
# Sextant developer entry point on a Debian machine (root, or a user with sudo).
#   deploy/dev.sh demo [SNAPSHOT]  install what is missing, build, replay a snapshot
#                                  (default: the bundled test/data/snapshots/default.json)
#   deploy/dev.sh test             install what is missing, build, run every test
#   deploy/dev.sh build            install what is missing and build only
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

build() {
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$jobs"
}

cmd=${1:-demo}
case "$cmd" in
  demo)
    install_missing
    build
    snapshot=${2:-$root/test/data/snapshots/default.json}
    echo "==> sextant replay $snapshot"
    "$build/sextant" replay "$snapshot" --out "$build/replay-report.json"
    ;;
  test)
    install_missing
    build
    echo "==> C++ tests (ctest)"
    (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 300)
    if [ -f "$root/plugin-shim/go.mod" ]; then
      check_go
      echo "==> Go tests (plugin-shim, against the engine just built)"
      (cd "$root/plugin-shim" && go vet ./... && SEXTANT_ENGINE_BINARY="$build/sextant" go test ./...)
    fi
    ;;
  build)
    install_missing
    build
    ;;
  *)
    echo "usage: deploy/dev.sh demo [SNAPSHOT] | test | build" >&2
    exit 2
    ;;
esac
