#!/usr/bin/env python3
"""Assembles allocator_cases.jsonl from the per-case dumps of upstream's allocator test table.

Usage: assemble.py DUMP_DIR > allocator_cases.jsonl (generate.sh runs it), or
       assemble.py --random CASES.jsonl N > allocator_random_cases.jsonl to keep N of the
       scenarios random_cases_test.go wrote (3 in 5 that allocate, 1 in 5 errors, 1 in 5 without
       a solution, in their order), compacted.

One line per case: the inputs (claims, classes, slices, node, allocated devices) and what
upstream's incubating allocator gave with v1.37's default feature gates (results, error, whether
the error is the "failed on this node" kind, and the number of search steps). "group" says how
the case relates to the upstream test that defines it:
  ported    - the defaults give what the case's own feature set gives: the upstream case as is.
  defaults  - the case tests a feature gate that is off (or on) by default; kept as a parity check
              of its inputs under the defaults.
Cases that need alpha-only API fields Sextant's model does not hold are left out (listed in
test/dra/allocator_upstream_test.cc).
"""
import glob
import json
import os
import sys

ALPHA_ONLY = {"DRAListTypeAttributes", "DRAOptionalNodeOperations"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if v not in (None, {}, []) and k != "status"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def fixed_share_ids(results):
    """Share IDs are random UUIDs upstream; a fixed one keeps the file the same from run to run."""
    for result in results:
        for device in result.get("devices", {}).get("results", []):
            if "shareID" in device:
                device["shareID"] = "share"
    return results


def compact_random(path, keep):
    quota = {"allocated": keep * 3 // 5, "error": keep // 5}
    quota["unsatisfiable"] = keep - quota["allocated"] - quota["error"]
    lines = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            case = json.loads(line)
            kind = ("error" if case["error"] else
                    "unsatisfiable" if case["unsatisfiable"] else "allocated")
            if quota[kind] == 0:
                continue
            quota[kind] -= 1
            for key in ("claims", "classes", "slices", "results"):
                case[key] = strip(case[key]) if case[key] is not None else []
            case["results"] = fixed_share_ids(case["results"])
            case["allocated"] = case["allocated"] or []
            lines.append(json.dumps(case, separators=(",", ":"), sort_keys=True))
    sys.stdout.write("\n".join(lines) + "\n")


def main():
    if sys.argv[1] == "--random":
        compact_random(sys.argv[2], int(sys.argv[3]))
        return
    lines = []
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        with open(path) as f:
            d = json.load(f)
        features = set(d["features"])
        if features & ALPHA_ONLY:
            continue
        alpha = features & {"DRADeviceCompatibilityGroups", "DRADerivedAttributes"}
        case = {
            "name": d["name"],
            "group": "ported" if d["sameAsCaseFeatures"] and not alpha else "defaults",
            "features": d["features"],
            "claims": strip(d["claims"]),
            "classes": strip(d["classes"]),
            "slices": strip(d["slices"]),
            "node": {"name": d["node"]["metadata"]["name"],
                     "labels": d["node"]["metadata"].get("labels", {})},
            "allocated": d["allocated"] or [],
            "results": fixed_share_ids(strip(d["results"] or [])),
            "unsatisfiable": d["unsatisfiable"],
            "error": d.get("error", ""),
            "failedOnNode": d.get("failedOnNode", False),
            "steps": d.get("steps", 0),
        }
        lines.append(json.dumps(case, separators=(",", ":"), sort_keys=True))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
