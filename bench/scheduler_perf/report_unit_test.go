package schedulerperf

import (
	"math"
	"strings"
	"testing"
)

func item(name, metric string, data map[string]float64, extra ...string) dataItem {
	labels := map[string]string{"Name": name, "Metric": metric}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return dataItem{Data: data, Labels: labels}
}

// A profile's full set of items for one workload: throughput, scheduled-attempt latency, duration.
func measured(profile string, podsPerSec float64) []dataItem {
	name := "BenchmarkPerfScheduling/Basic/" + profile + "/Basic/100Nodes/namespace-2"
	return []dataItem{
		item(name, "SchedulingThroughput", map[string]float64{"Average": podsPerSec}),
		item(name, "scheduler_scheduling_attempt_duration_seconds", map[string]float64{"Perc50": 1, "Perc90": 2, "Perc99": 3}, "result", "scheduled"),
		item(name, "scheduler_scheduling_attempt_duration_seconds", map[string]float64{"Perc50": 9}, "result", "unschedulable"),
		item(name, "SchedulingDuration", map[string]float64{"Duration": 2.5}),
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name      string
		def, sext []dataItem
		wantRatio float64 // NaN: no ratio
		wantErr   string  // substring; empty: no error
	}{
		{name: "both profiles measured", def: measured(profileDefault, 200), sext: measured(profileSextant, 300), wantRatio: 1.5},
		{name: "sextant profile missing", def: measured(profileDefault, 200), wantRatio: math.NaN(), wantErr: "no sextant result"},
		{name: "default profile scheduled nothing",
			def:  measured(profileDefault, 200)[2:], // only the unschedulable attempts and the duration
			sext: measured(profileSextant, 300), wantRatio: math.NaN(), wantErr: "default profile scheduled no pod"},
		{name: "no duration", def: measured(profileDefault, 200), sext: measured(profileSextant, 300)[:3], wantRatio: 1.5,
			wantErr: "sextant profile reported no duration"},
		{name: "measured phase shorter than a throughput sample",
			def: measured(profileDefault, 200), sext: measured(profileSextant, 300)[1:], wantRatio: math.NaN()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := append(summarize(profileDefault, tc.def), summarize(profileSextant, tc.sext)...)
			rows, err := compare(results)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("compare: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("compare error = %v, want one containing %q", err, tc.wantErr)
			}
			if len(rows) != 1 || rows[0].workload != "Basic/100Nodes" {
				t.Fatalf("rows = %+v, want one row for Basic/100Nodes", rows)
			}
			got := rows[0].ratio
			if math.IsNaN(tc.wantRatio) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.wantRatio) > 1e-9) {
				t.Errorf("ratio = %v, want %v", got, tc.wantRatio)
			}
			if !strings.Contains(formatTable(rows), "Basic/100Nodes") {
				t.Errorf("the table does not name the workload:\n%s", formatTable(rows))
			}
		})
	}
}

func TestSplitTestCasesRejectsSchedulerConfigPath(t *testing.T) {
	if _, err := splitTestCases(perfConfig); err != nil {
		t.Fatalf("%s: %v", perfConfig, err)
	}
	path := t.TempDir() + "/config.yaml"
	tc := testCaseSpec{name: "X", spec: map[string]any{"name": "X"}}
	if err := tc.write(path, "/some/profile.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := splitTestCases(path); err == nil || !strings.Contains(err.Error(), "schedulerConfigPath") {
		t.Errorf("splitTestCases on a config that sets schedulerConfigPath: err = %v", err)
	}
}
