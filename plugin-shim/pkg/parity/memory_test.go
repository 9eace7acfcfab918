package parity

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The engine's memory stays flat over a long loop of the calls a scheduler makes: Evaluate, Assume
// or a bound-pod Sync delta, Forget or a delete delta, and now and then Preempt, each cycle
// leaving the cluster as it found it. The resident set is read after a warm-up tenth of the
// cycles and at the end; growth beyond 16 MiB fails (a leak of even 200 bytes per cycle shows at
// 10^5 cycles). SEXTANT_MEMORY_CYCLES sets the cycle count (default 3,000; docs/reliability.md
// quotes 10^5).
func TestEngineMemoryFlat(t *testing.T) {
	binary := os.Getenv("SEXTANT_ENGINE_BINARY")
	if binary == "" {
		t.Skip("SEXTANT_ENGINE_BINARY is not set")
	}
	cycles := 3000
	if v := os.Getenv("SEXTANT_MEMORY_CYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			t.Fatalf("SEXTANT_MEMORY_CYCLES=%q: want an integer >= 100", v)
		}
		cycles = n
	}
	proc, err := StartEngine(binary)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Stop() })
	engine, err := DialEngine(proc.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	ctx := context.Background()
	snapshot := Generate(7, GenerateOptions{MinNodes: 200, MaxNodes: 200, MinPods: 50, MaxPods: 50})
	if err := engine.Load(ctx, snapshot); err != nil {
		t.Fatal(err)
	}
	pending := snapshot.PendingPods()

	var warm int64
	start := time.Now()
	placed, preempts := 0, 0
	for i := range cycles {
		if i == cycles/10 {
			if warm, err = residentKiB(proc.Pid); err != nil {
				t.Fatal(err)
			}
		}
		pod := pending[i%len(pending)]
		resp, err := engine.Evaluate(ctx, pod, nil)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if resp.ChosenNode == "" {
			if i%100 == 0 {
				if _, err := engine.Preempt(ctx, pod, nil); err != nil {
					t.Fatalf("cycle %d Preempt: %v", i, err)
				}
				preempts++
			}
			continue
		}
		assume := i%2 == 0
		if err := engine.Bind(ctx, pod, resp.ChosenNode, assume); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := engine.Remove(ctx, pod, assume); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		placed++
	}
	end, err := residentKiB(proc.Pid)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d cycles (%d placed and removed, %d preemption dry runs) in %v (%.0f µs/cycle); engine RSS after warm-up %d KiB, at the end %d KiB (%+d KiB)",
		cycles, placed, preempts, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/float64(cycles), warm, end, end-warm)
	if placed == 0 {
		t.Fatal("no pod was ever placed: the loop exercised nothing")
	}
	if end-warm > 16*1024 {
		t.Errorf("engine RSS grew by %d KiB over %d cycles (from %d to %d KiB)", end-warm, cycles-cycles/10, warm, end)
	}
}

// residentKiB reads VmRSS from /proc/PID/status.
func residentKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
