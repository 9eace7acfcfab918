#!/bin/sh
# Regenerates allocator_cases.jsonl: runs upstream's allocator test table (k8s.io/dynamic-resource-
# allocation, structured/internal/allocatortesting) against the incubating allocator with the
# default feature gates of kube-scheduler v1.37 and records each case's inputs and outcome; and
# allocator_random_cases.jsonl: random scenarios (random_cases_test.go.in) with upstream's outcome.
# DRA_RANDOM_COUNT=n DRA_RANDOM_SEED=s DRA_RANDOM_OUT=path writes n random scenarios to path
# instead, for a longer run (SEXTANT_DRA_EXTRA_CASES=path runs them in sextant_tests).
# Needs Go and the module in the module cache (or network access for the proxy).
set -eu
version=${DRA_VERSION:-v0.37.2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go mod download "k8s.io/dynamic-resource-allocation@$version"
src=$(go env GOMODCACHE)/k8s.io/dynamic-resource-allocation@$version
cp -r "$src" "$work/dra" && chmod -R u+w "$work/dra"
testing=$work/dra/structured/internal/allocatortesting
cp "$here/dump_testing.go.in" "$testing/dump_testing.go"
cp "$here/random_cases_test.go.in" "$work/dra/structured/zz_random_cases_test.go"
# Hook the dump into RunTestAllocator, before a case can be skipped for its features.
python3 - "$testing/allocator_testing.go" <<'PY'
import sys
path = sys.argv[1]
s = open(path).read()
hook = ('\t\t\tg := gomega.NewWithT(t)\n'
        '\t\t\tif dir := os.Getenv("DRA_DUMP_DIR"); dir != "" {\n'
        '\t\t\t\tdumpCase(t, ctx, dir, name, tc, newAllocator)\n'
        '\t\t\t}\n')
s = s.replace('\t\t\tg := gomega.NewWithT(t)\n\n\t\t\trequired', hook + '\n\t\t\trequired', 1)
s = s.replace('\t"math"\n', '\t"math"\n\t"os"\n', 1)
open(path, "w").write(s)
PY
(cd "$work/dra" && go mod download)
if [ -n "${DRA_RANDOM_OUT:-}" ]; then
  (cd "$work/dra" && DRA_RANDOM_CASES="$work/random.jsonl" DRA_RANDOM_COUNT="${DRA_RANDOM_COUNT:-1000}" \
    DRA_RANDOM_SEED="${DRA_RANDOM_SEED:-1}" go test ./structured/ -run TestRandomCases -count=1)
  python3 "$here/assemble.py" --random "$work/random.jsonl" 1000000000 > "$DRA_RANDOM_OUT"
  exit 0
fi
mkdir "$work/dump"
(cd "$work/dra" && DRA_DUMP_DIR="$work/dump" \
  go test ./structured/internal/incubating/ -run TestAllocator -count=1)
python3 "$here/assemble.py" "$work/dump" > "$here/allocator_cases.jsonl"
(cd "$work/dra" && DRA_RANDOM_CASES="$work/random.jsonl" DRA_RANDOM_COUNT=1000 DRA_RANDOM_SEED=1 \
  go test ./structured/ -run TestRandomCases -count=1)
python3 "$here/assemble.py" --random "$work/random.jsonl" 150 > "$here/allocator_random_cases.jsonl"
