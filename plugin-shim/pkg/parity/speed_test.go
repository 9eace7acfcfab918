package parity

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// TestSpeedTiny runs the speed mode at a tiny size against the real engine and checks the table
// has sane positive numbers; it asserts nothing about timings.
func TestSpeedTiny(t *testing.T) {
	address := enginetest.StartRealEngine(t, parityEngineArgs...) // skips when SEXTANT_ENGINE_BINARY is not set
	engine, err := DialEngine(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	s := GenerateSpeed(SpeedOptions{Nodes: 50, PendingPods: 5})
	if len(s.Nodes) != 50 || len(s.PendingPods()) != 5 {
		t.Fatalf("generated %d nodes, %d pending pods", len(s.Nodes), len(s.PendingPods()))
	}
	row, err := Speed(context.Background(), s, engine)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteSpeedTable(&buf, []SpeedRow{row})
	t.Logf("\n%s", buf.String())
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("table has %d lines, want 2:\n%s", len(lines), buf.String())
	}
	f := strings.Fields(lines[1])
	if len(f) != 7 {
		t.Fatalf("row has %d fields, want 7: %q", len(f), lines[1])
	}
	if f[0] != "50" || f[2] != "5" {
		t.Errorf("row %q: want 50 nodes, 5 pending pods", lines[1])
	}
	if n, err := strconv.Atoi(f[3]); err != nil || n <= 0 {
		t.Errorf("median feasible nodes %q: want a positive count", f[3])
	}
	for _, col := range f[4:] {
		if v, err := strconv.ParseFloat(col, 64); err != nil || !(v > 0) {
			t.Errorf("row %q: column %q is not a positive number", lines[1], col)
		}
	}
}
