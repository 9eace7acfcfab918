// Package schedulerperf runs upstream's scheduler benchmark (k8s.io/kubernetes
// test/integration/scheduler_perf) on Sextant's workloads (performance-config.yaml), once with the
// default profile and once with the Sextant profile: the Sextant plugin in the scheduler under
// test, forwarding every cycle to an engine process the benchmark starts. It prints, per
// workload, both profiles' SchedulingThroughput and scheduling-attempt latency and their ratio.
//
// Short mode (deploy/dev.sh test), 100-node workloads:
//
//	SEXTANT_ENGINE_BINARY=build/sextant PATH=$PATH:<dir with etcd> \
//	  go test -short -run . -bench . -benchtime 1x . -args -v=0
//
// Full mode: the same without -short (docs/benchmarks.md has the command and the results).
package schedulerperf

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "k8s.io/component-base/logs/json/register"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"
	"k8s.io/kubernetes/test/utils/client-go/ktesting"

	"sextant.io/plugin-shim/pkg/sextant"
)

var (
	outDir = flag.String("sextant-perf-out", "",
		"keep each run's data items, profiles (-perf-cpuprofile) and engine log under this directory")
	podsTimeout = flag.Duration("sextant-pods-timeout", 0,
		"how long a workload may take to schedule its pods before it fails (default: 6m with -short, upstream's 10m without)")
)

const (
	perfConfig     = "performance-config.yaml"
	sextantProfile = "sextant-profile.yaml"
)

func TestMain(m *testing.M) {
	if err := perf.InitTests(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// BenchmarkPerfScheduling runs each test case of performance-config.yaml with the default profile,
// then with the Sextant profile, and prints the comparison. It fails when either profile fails a
// workload or reports no measurement for it.
func BenchmarkPerfScheduling(b *testing.B) {
	engineBinary := os.Getenv("SEXTANT_ENGINE_BINARY")
	if engineBinary == "" {
		b.Fatal("SEXTANT_ENGINE_BINARY must name the engine binary (build/sextant)")
	}
	if !filepath.IsAbs(engineBinary) {
		abs, err := filepath.Abs(engineBinary)
		if err != nil {
			b.Fatal(err)
		}
		engineBinary = abs
	}
	// Without -short the 100-node workloads are left out, unless a label filter was given.
	if !testing.Short() && perf.PerfSchedulingLabelFilter == "performance" {
		perf.PerfSchedulingLabelFilter = "performance,-short"
	}
	timeout := *podsTimeout
	if timeout == 0 && testing.Short() {
		// Above the scheduler's 5-minute flush of unschedulable pods: in PreemptionBasic the
		// default profile sometimes leaves a preemptor in that queue until the flush (seen once
		// in a short run; at 1,000 nodes it cost the default profile 5 minutes, docs/benchmarks.md).
		timeout = 6 * time.Minute
	}

	cases, err := splitTestCases(perfConfig)
	if err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	registry := frameworkruntime.Registry{sextant.Name: sextant.New}
	var results []workloadResult

	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for _, profile := range []string{profileDefault, profileSextant} {
				b.Run(profile, func(b *testing.B) {
					dataDir := filepath.Join(work, tc.name+"_"+profile)
					if *outDir != "" {
						dataDir = filepath.Join(*outDir, tc.name+"_"+profile)
					}
					if err := os.MkdirAll(dataDir, 0o755); err != nil {
						b.Fatal(err)
					}
					opts := []perf.SchedulerPerfOption{}
					if timeout > 0 {
						opts = append(opts, perf.WithPodsSchedulingTimeout(timeout))
					}
					schedulerConfig := ""
					if profile == profileSextant {
						socketDir, cleanup, err := engineSocketDir()
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(cleanup)
						socket := filepath.Join(socketDir, "engine.sock")
						schedulerConfig = filepath.Join(dataDir, "scheduler-config.yaml")
						if err := writeSextantProfile(sextantProfile, schedulerConfig, "unix://"+socket); err != nil {
							b.Fatal(err)
						}
						opts = append(opts, perf.WithPreRunFn(engineForWorkload(engineBinary, socket, filepath.Join(dataDir, "engine.log"))))
					}
					configPath := filepath.Join(dataDir, "performance-config.yaml")
					if err := tc.write(configPath, schedulerConfig); err != nil {
						b.Fatal(err)
					}
					if err := flag.Set("data-items-dir", dataDir); err != nil {
						b.Fatal(err)
					}
					perf.RunBenchmarkPerfScheduling(b, configPath, profile, registry, opts...)
					if b.Failed() {
						return
					}
					items, err := readDataItems(dataDir)
					if err != nil {
						b.Fatal(err)
					}
					results = append(results, summarize(profile, items)...)
				})
			}
		})
	}

	rows, err := compare(results)
	fmt.Print(formatTable(rows))
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) == 0 && !b.Failed() {
		b.Fatalf("no workload ran (label filter %q)", perf.PerfSchedulingLabelFilter)
	}
}

// engineForWorkload starts a fresh engine before each workload's scheduler and stops it after.
// A workload fails when its engine crashed while it ran.
func engineForWorkload(binary, socket, logPath string) perf.PreRunFn {
	return func(tCtx ktesting.TContext, w *perf.Workload) (func(), error) {
		e, err := startEngine(binary, socket, logPath)
		if err != nil {
			return nil, err
		}
		return func() {
			if err := e.stop(); err != nil {
				tCtx.Errorf("%s: %v; see %s", w.Name, err, logPath)
			}
		}, nil
	}
}
