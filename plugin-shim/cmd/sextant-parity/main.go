// Command sextant-parity compares the Sextant engine with upstream kube-scheduler v1.37.2 on
// recorded snapshots: for every pending pod, the filter verdict of every node (code, failing
// plugin, reasons) and the total score of every feasible node, and the set of top nodes, or the
// cycle's error; for a pod no node fits, DefaultPreemption: eligibility, every candidate node
// with its victims and PDB violations, and the nodes tied after the last criterion
// (--no-preemption: not compared); for a pod with resource claims bound in sequential mode, the
// devices Reserve allocated (DynamicResources).
//
//	sextant-parity [--engine PATH_TO_sextant | --address unix:///sock] SNAPSHOT.json...
//	sextant-parity --seeds 200 [--first-seed 1]     # generated snapshots instead of files
//	sextant-parity --speed --nodes 1000,5000,15000  # per-pod time, upstream vs engine over gRPC
//
// A snapshot is a kubectl List: `kubectl get nodes,pods,priorityclasses,pdb,namespaces,services,
// rc,rs,statefulsets,deviceclasses,resourceslices,resourceclaims -A -o json`. Pending pods
// are compared in order, each bound on both sides before the next (--independent: each against
// the initial snapshot). It prints a short report and exits 1 on any mismatch, 2 when the
// comparison cannot run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"sextant.io/plugin-shim/pkg/parity"
)

func main() {
	os.Exit(run())
}

func run() int {
	engineFlag := flag.String("engine", "", "the `sextant` binary to start (default: $SEXTANT_ENGINE_BINARY, then sextant on PATH)")
	address := flag.String("address", "", "an already running engine (unix:///path or host:port) instead of starting one")
	maxDiffs := flag.Int("diffs", 20, "mismatches to print in detail")
	seeds := flag.Int("seeds", 0, "compare this many generated snapshots (besides any files)")
	firstSeed := flag.Uint64("first-seed", 1, "the first generated seed")
	noPodLevel := flag.Bool("no-pod-level-resources", false, "generate no pods with spec.resources")
	noInterPod := flag.Bool("no-inter-pod", false, "generate no pod affinity, topology spread constraints or default-spreading objects")
	noDRA := flag.Bool("no-dra", false, "generate no device classes, resource slices or resource claims")
	independent := flag.Bool("independent", false, "evaluate every pending pod against the initial snapshot (default: bind each pod on both sides, to the smallest top node they agree on, before the next)")
	noPreemption := flag.Bool("no-preemption", false, "do not compare DefaultPreemption for the pods no node fits (default: compare it, and in sequential mode apply a preemption both sides agree on)")
	dump := flag.String("dump", "", "directory to write each mismatching generated snapshot to, as a List")
	speed := flag.Bool("speed", false, "time upstream's cycle and the engine's Evaluate per pending pod on generated snapshots of --nodes nodes")
	speedNodes := flag.String("nodes", "1000,5000,15000", "with --speed: comma-separated node counts")
	speedPods := flag.Int("pods", 50, "with --speed: pending pods per snapshot")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [--engine PATH | --address ADDR] [--seeds N] SNAPSHOT.json...\n", filepath.Base(os.Args[0]))
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 && *seeds == 0 && !*speed {
		flag.Usage()
		return 2
	}
	addr := *address
	if addr == "" {
		binary := *engineFlag
		if binary == "" {
			binary = os.Getenv("SEXTANT_ENGINE_BINARY")
		}
		if binary == "" {
			var err error
			if binary, err = exec.LookPath("sextant"); err != nil {
				fmt.Fprintln(os.Stderr, "sextant-parity: no engine: pass --engine PATH_TO_sextant or --address")
				return 2
			}
		}
		proc, err := parity.StartEngine(binary)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
			return 2
		}
		defer proc.Stop()
		addr = proc.Address
	}
	engine, err := parity.DialEngine(addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
		return 2
	}
	defer engine.Close()

	ctx := context.Background()
	if *speed {
		return runSpeed(ctx, engine, *speedNodes, *speedPods)
	}
	total := parity.NewReport(*maxDiffs)
	compare := func(s *parity.Snapshot) bool {
		r, err := parity.Compare(ctx, s, engine, parity.CompareOptions{MaxDiffs: *maxDiffs, Independent: *independent, NoPreemption: *noPreemption})
		if err != nil {
			fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
			return false
		}
		if r.Total() > 0 {
			fmt.Printf("%s: %d mismatches in %d of %d pods\n", s.Name, r.Total(), r.MismatchedPods, r.Pods)
		}
		total.Add(r)
		return true
	}
	for _, path := range flag.Args() {
		s, skipped, err := parity.LoadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
			return 2
		}
		if skipped > 0 {
			fmt.Printf("%s: skipped %d items of other kinds\n", path, skipped)
		}
		if !compare(s) {
			return 2
		}
	}
	for seed := *firstSeed; seed < *firstSeed+uint64(*seeds); seed++ {
		opts := parity.DefaultGenerateOptions
		opts.NoPodLevelResources = *noPodLevel
		opts.NoInterPod = *noInterPod
		opts.DRA = !*noDRA
		s := parity.Generate(seed, opts)
		before := total.Total()
		if !compare(s) {
			return 2
		}
		if *dump != "" && total.Total() > before {
			f, err := os.Create(filepath.Join(*dump, fmt.Sprintf("seed-%d.json", seed)))
			if err == nil {
				err = parity.WriteList(f, s)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
			}
		}
	}
	total.Write(os.Stdout)
	if total.Total() > 0 {
		return 1
	}
	return 0
}

// runSpeed prints the speed table for each node count in nodes (comma-separated).
func runSpeed(ctx context.Context, engine *parity.GRPCEngine, nodes string, pods int) int {
	var rows []parity.SpeedRow
	for _, f := range strings.Split(nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "sextant-parity: --nodes: bad count %q\n", f)
			return 2
		}
		row, err := parity.Speed(ctx, parity.GenerateSpeed(parity.SpeedOptions{Nodes: n, PendingPods: pods}), engine)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sextant-parity: %v\n", err)
			return 2
		}
		rows = append(rows, row)
		parity.WriteSpeedTable(os.Stderr, []parity.SpeedRow{row}) // progress
	}
	parity.WriteSpeedTable(os.Stdout, rows)
	return 0
}
