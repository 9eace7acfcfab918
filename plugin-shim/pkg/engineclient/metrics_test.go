package engineclient

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// metricsSnapshot reads the engine client's metrics; the registry is global, so tests compare
// differences.
type metricsSnapshot struct {
	requests  map[string]uint64  // method -> histogram count
	errors    map[string]float64 // method/code -> count
	resyncs   map[string]float64 // reason -> count
	sequences float64
}

func readMetrics(t *testing.T) metricsSnapshot {
	t.Helper()
	s := metricsSnapshot{requests: map[string]uint64{}, errors: map[string]float64{}, resyncs: map[string]float64{}}
	for _, method := range []string{methodEvaluate, methodAssume, methodForget, methodSync} {
		n, err := testutil.GetHistogramMetricCount(RequestDuration.WithLabelValues(method))
		if err != nil {
			t.Fatal(err)
		}
		s.requests[method] = n
	}
	for _, mc := range [][2]string{{methodEvaluate, "Internal"}, {methodEvaluate, "FailedPrecondition"}, {methodForget, "Unavailable"}, {methodForget, "NotFound"}} {
		v, err := testutil.GetCounterMetricValue(RequestErrors.WithLabelValues(mc[0], mc[1]))
		if err != nil {
			t.Fatal(err)
		}
		s.errors[mc[0]+"/"+mc[1]] = v
	}
	for _, reason := range []string{ResyncConnect, ResyncEpochChanged, ResyncRequired, ResyncRequested} {
		v, err := testutil.GetCounterMetricValue(Resyncs.WithLabelValues(reason))
		if err != nil {
			t.Fatal(err)
		}
		s.resyncs[reason] = v
	}
	v, err := testutil.GetGaugeMetricValue(AppliedSequence)
	if err != nil {
		t.Fatal(err)
	}
	s.sequences = v
	return s
}

func TestMetrics(t *testing.T) {
	RegisterMetrics()
	before := readMetrics(t)
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), pod("ns", "p", "")}})
	ctx := context.Background()
	p := pod("ns", "p", "")

	// Two answers and one INTERNAL error.
	for i := 0; i < 2; i++ {
		if _, err := h.client.Evaluate(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		f.EvaluateFunc = func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return nil, status.Error(codes.Internal, "boom")
		}
	})
	if _, err := h.client.Evaluate(ctx, p); !errors.Is(err, ErrEngine) {
		t.Fatalf("Evaluate error = %v, want ErrEngine", err)
	}
	// Assume, Forget, and a second Forget that finds nothing (NOT_FOUND is not an error).
	if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := h.client.Forget(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	after := readMetrics(t)
	wantRequests := map[string]uint64{methodEvaluate: 3, methodAssume: 1, methodForget: 2, methodSync: 1}
	for method, want := range wantRequests {
		if got := after.requests[method] - before.requests[method]; got != want {
			t.Errorf("%s round trips observed = %d, want %d", method, got, want)
		}
	}
	wantErrors := map[string]float64{"Evaluate/Internal": 1, "Evaluate/FailedPrecondition": 0, "Forget/NotFound": 0, "Forget/Unavailable": 0}
	for key, want := range wantErrors {
		if got := after.errors[key] - before.errors[key]; got != want {
			t.Errorf("errors %s = %v, want %v", key, got, want)
		}
	}
	if got := after.resyncs[ResyncConnect] - before.resyncs[ResyncConnect]; got != 1 {
		t.Errorf("connect resyncs = %v, want 1", got)
	}
	if after.sequences != 1 {
		t.Errorf("applied sequence = %v, want 1", after.sequences)
	}

	// An epoch mismatch on Evaluate: a FAILED_PRECONDITION error and an epoch_changed resync.
	h.engine.With(func(f *enginetest.FakeEngine) {
		f.EvaluateFunc = func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return nil, status.Error(codes.FailedPrecondition, "engine epoch is x, not y")
		}
	})
	if _, err := h.client.Evaluate(ctx, p); !errors.Is(err, ErrEpochChanged) {
		t.Fatalf("Evaluate error = %v, want ErrEpochChanged", err)
	}
	h.waitMessages(2)
	h.waitSynced("the epoch resync")
	// A delta answered with resync_required.
	h.engine.With(func(f *enginetest.FakeEngine) { f.ResyncNext = 1 })
	if _, err := h.cs.CoreV1().Nodes().Create(ctx, node("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs := h.waitMessages(4) // full, full, delta, full
	h.waitSynced("the required resync")
	// A failed Forget asks for a resync for no epoch reason.
	if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
		t.Fatal(err)
	}
	h.engine.With(func(f *enginetest.FakeEngine) { f.FailForgets = 1 })
	if err := h.client.Forget(ctx, p); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Forget error = %v, want ErrUnavailable", err)
	}
	msgs = h.waitMessages(5)
	h.waitSynced("the requested resync")

	final := readMetrics(t)
	wantResyncs := map[string]float64{ResyncConnect: 1, ResyncEpochChanged: 1, ResyncRequired: 1, ResyncRequested: 1}
	for reason, want := range wantResyncs {
		if got := final.resyncs[reason] - before.resyncs[reason]; got != want {
			t.Errorf("resyncs{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	for key, want := range map[string]float64{"Evaluate/FailedPrecondition": 1, "Forget/Unavailable": 1} {
		if got := final.errors[key] - after.errors[key]; got != want {
			t.Errorf("errors %s = %v, want %v", key, got, want)
		}
	}
	if got := final.requests[methodSync] - before.requests[methodSync]; got != uint64(len(msgs)) {
		t.Errorf("Sync round trips observed = %d, want %d (one per message)", got, len(msgs))
	}
	var applied uint64
	h.engine.With(func(f *enginetest.FakeEngine) { applied = f.Applied })
	if final.sequences != float64(applied) {
		t.Errorf("applied sequence gauge = %v, engine applied %d", final.sequences, applied)
	}

	// The metrics are on the scheduler's registry under their full names.
	codesSeen, err := testutil.GetCounterValuesFromGatherer(legacyregistry.DefaultGatherer,
		"sextant_engine_request_errors_total", map[string]string{"method": "Evaluate"}, "code")
	if err != nil {
		t.Fatal(err)
	}
	if codesSeen["Internal"] < 1 || codesSeen["FailedPrecondition"] < 1 {
		t.Errorf("sextant_engine_request_errors_total{method=Evaluate} by code = %v", codesSeen)
	}
	hist, err := testutil.GetHistogramVecFromGatherer(legacyregistry.DefaultGatherer,
		"sextant_engine_request_duration_seconds", map[string]string{"method": "Evaluate"})
	if err != nil {
		t.Fatal(err)
	}
	if hist.GetAggregatedSampleCount() < 4 {
		t.Errorf("sextant_engine_request_duration_seconds{method=Evaluate} count = %d, want >= 4", hist.GetAggregatedSampleCount())
	}
	for _, name := range []string{"sextant_engine_resyncs_total", "sextant_engine_applied_sequence"} {
		families, err := legacyregistry.DefaultGatherer.Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range families {
			found = found || f.GetName() == name
		}
		if !found {
			t.Errorf("%s is not in the legacy registry", name)
		}
	}
}
