package schedulerperf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

const (
	profileDefault = "default"
	profileSextant = "sextant"
)

// testCaseSpec is one test case of the performance config, kept as generic YAML so that every
// field upstream's format knows passes through untouched.
type testCaseSpec struct {
	name string
	spec map[string]any
}

// splitTestCases reads a performance config and returns its test cases one by one, so that the
// benchmark can run each under both profiles before moving to the next.
func splitTestCases(path string) ([]testCaseSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var specs []map[string]any
	if err := yaml.Unmarshal(data, &specs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cases := make([]testCaseSpec, 0, len(specs))
	for i, spec := range specs {
		name, _ := spec["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("%s: test case %d has no name", path, i)
		}
		if _, ok := spec["schedulerConfigPath"]; ok {
			return nil, fmt.Errorf("%s: test case %s sets schedulerConfigPath; the benchmark sets it per profile", path, name)
		}
		cases = append(cases, testCaseSpec{name: name, spec: spec})
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no test cases", path)
	}
	return cases, nil
}

// write stores the test case alone as a performance config at path, with schedulerConfigPath set
// when schedulerConfig is not empty (empty: upstream's default profile).
func (tc testCaseSpec) write(path, schedulerConfig string) error {
	spec := make(map[string]any, len(tc.spec)+1)
	for k, v := range tc.spec {
		spec[k] = v
	}
	if schedulerConfig != "" {
		spec["schedulerConfigPath"] = schedulerConfig
	}
	data, err := yaml.Marshal([]map[string]any{spec})
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// writeSextantProfile copies the Sextant profile from src to dst with the engine's address.
func writeSextantProfile(src, dst, engineAddress string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	const placeholder = "engineAddress: ENGINE_ADDRESS"
	if !strings.Contains(string(data), placeholder) {
		return fmt.Errorf("%s has no %q line", src, placeholder)
	}
	text := strings.Replace(string(data), placeholder, "engineAddress: "+engineAddress, 1)
	return os.WriteFile(dst, []byte(text), 0o644)
}

// dataItem is one entry of the benchmark's data-items file.
type dataItem struct {
	Data   map[string]float64 `json:"data"`
	Unit   string             `json:"unit"`
	Labels map[string]string  `json:"labels"`
}

// readDataItems reads the data-items files the benchmark wrote into dir.
func readDataItems(dir string) ([]dataItem, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no data items in %s", dir)
	}
	var items []dataItem
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			DataItems []dataItem `json:"dataItems"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		items = append(items, doc.DataItems...)
	}
	return items, nil
}

// workloadResult is what one profile measured for one workload.
type workloadResult struct {
	workload string
	profile  string
	// throughputPodsPerSec is SchedulingThroughput's average over 1s samples; NaN when the
	// measured phase ended before the first sample.
	throughputPodsPerSec float64
	// attemptMillis: scheduling-attempt latency of the attempts that scheduled a pod, by
	// percentile (Perc50, Perc90, Perc99); nil when no attempt scheduled a pod.
	attemptMillis map[string]float64
	// durationSec is how long the measured phase took, pod creation included; 0 when missing.
	durationSec float64
}

// workloadKey names a workload as "TestCase/Workload" from a data item's Name label, which the
// benchmark sets to the sub-benchmark's full name followed by the measured namespace
// ("BenchmarkPerfScheduling/TestCase/profile/TestCase/Workload/namespace").
func workloadKey(name string) string {
	parts := strings.Split(name, "/")
	if len(parts) < 3 {
		return name
	}
	return parts[len(parts)-3] + "/" + parts[len(parts)-2]
}

// summarize turns one profile's data items into one result per workload.
func summarize(profile string, items []dataItem) []workloadResult {
	byName := map[string]*workloadResult{}
	var order []string
	get := func(name string) *workloadResult {
		if r, ok := byName[name]; ok {
			return r
		}
		r := &workloadResult{workload: name, profile: profile, throughputPodsPerSec: math.NaN()}
		byName[name] = r
		order = append(order, name)
		return r
	}
	for _, it := range items {
		if it.Labels["Name"] == "" {
			continue
		}
		name := workloadKey(it.Labels["Name"])
		switch it.Labels["Metric"] {
		case "SchedulingThroughput":
			if avg, ok := it.Data["Average"]; ok {
				get(name).throughputPodsPerSec = avg
			}
		case "scheduler_scheduling_attempt_duration_seconds":
			if it.Labels["result"] == "scheduled" {
				get(name).attemptMillis = it.Data
			}
		case "SchedulingDuration":
			get(name).durationSec = it.Data["Duration"]
		}
	}
	out := make([]workloadResult, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out
}

// comparison is one workload under both profiles.
type comparison struct {
	workload     string
	def, sextant workloadResult
	ratio        float64 // Sextant throughput / default throughput; NaN when either is missing
}

// compare pairs the profiles' results by workload. It returns an error naming each workload that
// a profile did not measure (no result, no scheduled attempt, or no duration): such a workload
// cannot be compared, and a benchmark that skipped it must not pass.
func compare(results []workloadResult) ([]comparison, error) {
	byProfile := map[string]map[string]workloadResult{profileDefault: {}, profileSextant: {}}
	var names []string
	seen := map[string]bool{}
	for _, r := range results {
		byProfile[r.profile][r.workload] = r
		if !seen[r.workload] {
			seen[r.workload] = true
			names = append(names, r.workload)
		}
	}
	var rows []comparison
	var problems []string
	for _, name := range names {
		row := comparison{workload: name, ratio: math.NaN()}
		for _, profile := range []string{profileDefault, profileSextant} {
			r, ok := byProfile[profile][name]
			switch {
			case !ok:
				r = workloadResult{workload: name, profile: profile, throughputPodsPerSec: math.NaN()}
				problems = append(problems, fmt.Sprintf("%s: no %s result", name, profile))
			case r.attemptMillis == nil:
				problems = append(problems, fmt.Sprintf("%s: the %s profile scheduled no pod", name, profile))
			case r.durationSec <= 0:
				problems = append(problems, fmt.Sprintf("%s: the %s profile reported no duration", name, profile))
			}
			if profile == profileDefault {
				row.def = r
			} else {
				row.sextant = r
			}
		}
		if d, s := row.def.throughputPodsPerSec, row.sextant.throughputPodsPerSec; d > 0 && !math.IsNaN(s) {
			row.ratio = s / d
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].workload < rows[j].workload })
	if len(problems) > 0 {
		return rows, errors.New(strings.Join(problems, "; "))
	}
	return rows, nil
}

// formatTable prints the comparison: throughput (pods/s), the ratio, the measured phase's
// duration and the scheduling-attempt latency percentiles (ms) of both profiles.
func formatTable(rows []comparison) string {
	var sb strings.Builder
	sb.WriteString("\nSextant vs default profile (SchedulingThroughput average; attempt latency of scheduled attempts)\n")
	fmt.Fprintf(&sb, "%-40s %12s %12s %7s %10s %10s %22s %22s\n", "workload", "default p/s", "sextant p/s", "ratio",
		"default s", "sextant s", "default p50/p90/p99 ms", "sextant p50/p90/p99 ms")
	num := func(v float64, prec int) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.*f", prec, v)
	}
	lat := func(m map[string]float64) string {
		if m == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1f/%.1f/%.1f", m["Perc50"], m["Perc90"], m["Perc99"])
	}
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-40s %12s %12s %7s %10.2f %10.2f %22s %22s\n", r.workload,
			num(r.def.throughputPodsPerSec, 1), num(r.sextant.throughputPodsPerSec, 1), num(r.ratio, 2),
			r.def.durationSec, r.sextant.durationSec, lat(r.def.attemptMillis), lat(r.sextant.attemptMillis))
	}
	return sb.String()
}
