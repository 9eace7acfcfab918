package celcorpus

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func corpusPath(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "data", "cel", "corpus.json")
}

// TestCorpusMatchesUpstream fails when the checked-in outcomes no longer agree with upstream's
// evaluator (go run ./cmd/sextant-celcorpus -write regenerates them).
func TestCorpusMatchesUpstream(t *testing.T) {
	path := corpusPath(t)
	checked, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	recomputed := Recompute(context.Background(), checked)
	for _, d := range Diff(checked, recomputed) {
		t.Error(d)
	}
	// The file is kept in the canonical form -write produces, messages included.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Marshal(recomputed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("%s is not what -write produces (messages or layout drifted); regenerate it", path)
	}
	t.Log(Summary(recomputed))
}

func TestDiffReportsAChangedOutcome(t *testing.T) {
	c := &Corpus{
		Devices:     []Device{{Name: "d", Driver: "gpu.example.com"}},
		Expressions: []Expression{{Expression: `device.driver == "gpu.example.com"`}},
	}
	recomputed := Recompute(context.Background(), c)
	if got := recomputed.Expressions[0].Results["d"]; got != Match {
		t.Fatalf("upstream result %q, want %q", got, Match)
	}
	c.Expressions[0].Compile = "ok"
	c.Expressions[0].Results = map[string]string{"d": NoMatch}
	if diffs := Diff(c, recomputed); len(diffs) != 1 {
		t.Fatalf("Diff = %v, want one difference", diffs)
	}
}
