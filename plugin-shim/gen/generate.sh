#!/usr/bin/env bash
# Regenerates the Go code for proto/sextant/v1/engine.proto into plugin-shim/gen/sextant/v1.
# The generated files are committed; run this after any change to the proto.
#
# Generators (pinned; the runtime versions are the ones k8s.io/kubernetes v1.37.2 requires,
# google.golang.org/protobuf v1.36.12-0.20260120151049-f2248ac996af and google.golang.org/grpc v1.82.1):
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12-0.20260120151049-f2248ac996af
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# protoc: 3.21.12 (Debian's protobuf-compiler).
set -euo pipefail

shim="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "${shim}/.." && pwd)"
export PATH="$(go env GOPATH)/bin:${PATH}"

cd "${shim}"
protoc \
  --proto_path="${repo}/proto" \
  --go_out=. --go_opt=module=sextant.io/plugin-shim \
  --go-grpc_out=. --go-grpc_opt=module=sextant.io/plugin-shim \
  sextant/v1/engine.proto
