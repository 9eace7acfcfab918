package engineclient

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics of the engine client, on the scheduler's own /metrics (the legacy registry, where
// upstream's scheduler metrics are). They are registered once, by the first New.
const (
	metricsNamespace = "sextant"
	metricsSubsystem = "engine"
)

// Methods, as the method label spells them.
const (
	methodEvaluate = "Evaluate"
	methodPreempt  = "Preempt"
	methodAssume   = "Assume"
	methodForget   = "Forget"
	methodSync     = "Sync"
)

// Resync reasons, as the reason label spells them.
const (
	// ResyncConnect: the first snapshot on a new Sync stream.
	ResyncConnect = "connect"
	// ResyncEpochChanged: the engine answered with another epoch (it restarted), on Sync or on a
	// per-pod call.
	ResyncEpochChanged = "epoch_changed"
	// ResyncRequired: the engine answered a delta with resync_required, or applied another
	// sequence than the one sent.
	ResyncRequired = "resync_required"
	// ResyncRequested: a resync asked for through RequestResync for another reason (a failed
	// Forget).
	ResyncRequested = "requested"
)

var (
	// RequestDuration is the latency of each round trip to the engine, per method: one unary call
	// (Evaluate, Assume, Forget) including encoding and decoding, or one Sync message and its
	// answer.
	RequestDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "request_duration_seconds",
		Help:           "Latency of round trips to the Sextant engine, by method (Evaluate, Preempt, Assume, Forget, Sync).",
		Buckets:        metrics.ExponentialBuckets(0.0001, 2, 16), // 100µs .. ~3.3s
		StabilityLevel: metrics.ALPHA,
	}, []string{"method"})

	// RequestErrors counts failed round trips by method and gRPC code name.
	RequestErrors = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "request_errors_total",
		Help:           "Failed round trips to the Sextant engine, by method and gRPC code.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"method", "code"})

	// Resyncs counts the full snapshots sent, by reason.
	Resyncs = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "resyncs_total",
		Help:           "Full snapshots sent to the Sextant engine, by reason (connect, epoch_changed, resync_required, requested).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"reason"})

	// AppliedSequence is the last sequence the engine acknowledged on the Sync stream.
	AppliedSequence = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace:      metricsNamespace,
		Subsystem:      metricsSubsystem,
		Name:           "applied_sequence",
		Help:           "Last Sync sequence the Sextant engine acknowledged as applied.",
		StabilityLevel: metrics.ALPHA,
	})

	registerMetrics sync.Once
)

// RegisterMetrics registers the engine client's metrics with the legacy registry; it is safe to
// call more than once.
func RegisterMetrics() {
	registerMetrics.Do(func() {
		legacyregistry.MustRegister(RequestDuration, RequestErrors, Resyncs, AppliedSequence)
	})
}

// observeRequest records one round trip that started at start; err is the gRPC error, if any.
func observeRequest(method string, start time.Time, err error) {
	RequestDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	if err != nil {
		RequestErrors.WithLabelValues(method, errorCode(err).String()).Inc()
	}
}

// errorCode is the gRPC code of err; context errors (a Sync round trip that timed out or was
// canceled locally) map to DeadlineExceeded and Canceled.
func errorCode(err error) codes.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return status.Code(err)
}
