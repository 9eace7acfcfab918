// Package engineclient is the shim's side of the sextant.v1 Engine API: a gRPC client for the
// per-pod calls (Evaluate, Preempt, Assume, Forget) and the Sync loop that mirrors the scheduler's
// informers into the engine (a full snapshot on connect, then one ordered delta per event).
//
// The plugin sees only the Client interface, so its tests use a fake. GRPCClient is safe for
// concurrent use; Run must be called once, and the per-pod calls fail with ErrNotSynced until
// the engine has acknowledged a full snapshot.
package engineclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	resourcelisters "k8s.io/client-go/listers/resource/v1"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// Client is what the scheduler plugin needs from the engine. Every call is bounded by the
// configured timeout, whatever the caller's context allows.
type Client interface {
	// Evaluate runs the engine's scheduling cycle for pod. The request names the last sequence
	// sent on Sync and the synced epoch, and carries the pod's default spread selector
	// (DefaultSpreadSelector); the answer is checked against the sequence and the epoch. Errors
	// wrap one of ErrNotSynced, ErrUnavailable, ErrTimeout, ErrStale, ErrEpochChanged or
	// ErrEngine, except a default selector with no LabelSelector form (never seen in practice).
	// When the engine chooses a node, the answer carries that node's result only (the plugin
	// narrows the cycle to it); EvaluateAll asks for every node's.
	Evaluate(ctx context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error)
	// EvaluateAll is Evaluate with every node's result in the answer.
	EvaluateAll(ctx context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error)
	// Preempt runs the engine's DefaultPreemption for pod (PostFilter): the engine runs the
	// scheduling cycle again, then the dry run on every Unschedulable node. The request carries
	// what Evaluate's does and the answer is checked the same way; errors are Evaluate's. The
	// answer's nominated_node is empty when preemption cannot help (message says why).
	Preempt(ctx context.Context, pod *v1.Pod) (*sextantv1.PreemptResponse, error)
	// Assume tells the engine that pod is being bound to node (Reserve). It returns the pod's
	// claims that the engine allocated on node for it (none when every claim was allocated
	// already), in the order of the pod's spec.resourceClaims; PreBind writes them.
	Assume(ctx context.Context, pod *v1.Pod, node string) ([]ClaimAllocation, error)
	// Forget undoes Assume (Unreserve), with the allocations Assume made. A failed Forget is
	// retried after the next resync.
	Forget(ctx context.Context, pod *v1.Pod) error
}

// Error kinds; the plugin turns each into a status message that says what went wrong.
var (
	// ErrNotSynced: the Sync stream is down or the engine has not acknowledged a snapshot yet.
	ErrNotSynced = errors.New("not synced with the Sextant engine")
	// ErrUnavailable: the engine cannot be reached, or answered UNAVAILABLE (it is stale).
	ErrUnavailable = errors.New("Sextant engine unavailable")
	// ErrTimeout: the engine did not answer within the configured timeout.
	ErrTimeout = errors.New("Sextant engine did not answer in time")
	// ErrStale: the engine answered from a state older than the last delta the shim sent.
	ErrStale = errors.New("Sextant engine is stale")
	// ErrEpochChanged: the engine restarted since the last snapshot; a resync is under way.
	ErrEpochChanged = errors.New("Sextant engine restarted (epoch changed)")
	// ErrEngine: any other error the engine returned.
	ErrEngine = errors.New("Sextant engine error")
)

// Defaults for Options.
const (
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// A full snapshot of a large cluster takes longer to send and apply than one call.
	snapshotTimeoutFactor = 10
	maxMessageBytes       = math.MaxInt32
)

// Options configure a GRPCClient.
type Options struct {
	// Address is a gRPC target: unix:///path/to.sock, or host:port.
	Address string
	// Timeout bounds every call and every Sync round trip (a full snapshot gets ten times it).
	Timeout time.Duration
	// ScoringStrategy is sent with each full snapshot; nil leaves the engine's own.
	ScoringStrategy *sextantv1.ScoringStrategy
	// Reconnect backoff bounds; zero means the defaults above.
	MinBackoff, MaxBackoff time.Duration
	// DialOptions are added to the defaults (insecure transport, unlimited message sizes);
	// tests use them to dial an in-process server.
	DialOptions []grpc.DialOption
}

// GRPCClient implements Client over a gRPC connection and runs the Sync loop.
type GRPCClient struct {
	opts   Options
	conn   *grpc.ClientConn
	rpc    sextantv1.EngineClient
	logger klog.Logger

	nodes      corelisters.NodeLister
	pods       corelisters.PodLister
	priorities schedulinglisters.PriorityClassLister
	budgets    policylisters.PodDisruptionBudgetLister
	namespaces corelisters.NamespaceLister
	// DRA objects; claims are read through the claim tracker (claims.go).
	deviceClasses  resourcelisters.DeviceClassLister
	resourceSlices resourcelisters.ResourceSliceLister
	claimLister    resourcelisters.ResourceClaimLister
	claims         *ClaimTracker
	draHashes      draHashes     // the DRA consistency guard's cache (view_dra.go)
	spread         SpreadListers // for the default spread selector sent with Evaluate
	cacheSynced    []cache.InformerSynced

	podIndexer cache.Indexer // the pod informer's store, indexed by node (the consistency guard)
	// view is what the engine has acknowledged, per node (view.go).
	view engineView
	// beforeEvent, when set (tests), runs before each informer event is handled: it delays the
	// shim's listener behind the scheduler's.
	beforeEvent atomic.Pointer[func()]

	queue    changeQueue
	resyncCh chan struct{}
	// resyncEpoch is set with a resync asked for because the engine answered another epoch; it
	// labels the resyncs metric.
	resyncEpoch atomic.Bool
	// lastSent is the sequence of the last message written to the Sync stream.
	lastSent atomic.Uint64

	// mu guards synced and epoch. Assume and Forget hold it for reading across their RPC, so
	// that the Sync loop, which takes it for writing when the stream goes down, never misses an
	// assumption made against the old engine (it re-assumes them on a new epoch).
	mu     sync.RWMutex
	synced bool
	epoch  string

	// pending guards the pods assumed and not yet bound, and failed Forgets to retry.
	pending  sync.Mutex
	assumed  map[string]assumption
	toForget map[string]forgetRef
}

type assumption struct {
	pod         *v1.Pod
	node        string
	allocations []ClaimAllocation
}

type forgetRef struct{ namespace, name string }

var _ Client = &GRPCClient{}

// New creates a client for opts.Address (no connection is made until Run) and registers its
// event handlers with the Node, Pod, PriorityClass, PodDisruptionBudget, Namespace, DeviceClass,
// ResourceSlice and ResourceClaim informers of factory, and the Service, ReplicationController, ReplicaSet and StatefulSet informers whose
// listers give each pod its default spread selector. The factory must be started by the caller
// (the scheduler starts it after creating plugins); Run waits for all of them to sync.
func New(opts Options, factory informers.SharedInformerFactory, logger klog.Logger) (*GRPCClient, error) {
	if opts.Address == "" {
		return nil, errors.New("engine address is empty")
	}
	if opts.Timeout <= 0 {
		return nil, fmt.Errorf("timeout must be positive, got %v", opts.Timeout)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(DefaultMaxBackoff, opts.MinBackoff)
	}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
	}, opts.DialOptions...)
	conn, err := grpc.NewClient(opts.Address, dial...)
	if err != nil {
		return nil, fmt.Errorf("engine address %q: %w", opts.Address, err)
	}
	c := &GRPCClient{
		opts:     opts,
		conn:     conn,
		rpc:      sextantv1.NewEngineClient(conn),
		logger:   logger,
		resyncCh: make(chan struct{}, 1),
		assumed:  map[string]assumption{},
		toForget: map[string]forgetRef{},
	}
	c.queue.notify = make(chan struct{}, 1)
	c.view.nodes, c.view.pods, c.view.dra = map[string]*nodeRec{}, map[string]*podRec{}, map[string]uint64{}
	RegisterMetrics()
	if err := c.registerInformers(factory); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Evaluate implements Client.
func (c *GRPCClient) Evaluate(ctx context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error) {
	return c.evaluate(ctx, pod, true)
}

// EvaluateAll implements Client.
func (c *GRPCClient) EvaluateAll(ctx context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error) {
	return c.evaluate(ctx, pod, false)
}

func (c *GRPCClient) evaluate(ctx context.Context, pod *v1.Pod, chosenOnly bool) (*sextantv1.EvaluateResponse, error) {
	call, err := c.prepareCall(pod)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.rpc.Evaluate(ctx, &sextantv1.EvaluateRequest{
		Pod: call.pod, MinSequence: call.minSequence, Epoch: call.epoch, DefaultSpreadSelector: call.spreadSelector,
		ChosenOnly: chosenOnly,
	})
	observeRequest(methodEvaluate, start, err)
	if err != nil {
		return nil, c.callError("Evaluate", err)
	}
	if err := c.checkAnswer("Evaluate", call, resp.Epoch, resp.AppliedSequence); err != nil {
		return nil, err
	}
	return resp, nil
}

// Preempt implements Client.
func (c *GRPCClient) Preempt(ctx context.Context, pod *v1.Pod) (*sextantv1.PreemptResponse, error) {
	call, err := c.prepareCall(pod)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.rpc.Preempt(ctx, &sextantv1.PreemptRequest{
		Pod: call.pod, MinSequence: call.minSequence, Epoch: call.epoch, DefaultSpreadSelector: call.spreadSelector,
	})
	observeRequest(methodPreempt, start, err)
	if err != nil {
		return nil, c.callError("Preempt", err)
	}
	if err := c.checkAnswer("Preempt", call, resp.Epoch, resp.AppliedSequence); err != nil {
		return nil, err
	}
	return resp, nil
}

// podCall is what Evaluate and Preempt send besides the pod: the epoch synced with, the last
// sequence sent, and the pod's default spread selector.
type podCall struct {
	pod            *sextantv1.Pod
	epoch          string
	minSequence    uint64
	spreadSelector *sextantv1.LabelSelector
}

func (c *GRPCClient) prepareCall(pod *v1.Pod) (podCall, error) {
	c.mu.RLock()
	synced, epoch := c.synced, c.epoch
	c.mu.RUnlock()
	if !synced {
		return podCall{}, fmt.Errorf("%w at %s: the Sync stream is down or no snapshot is acknowledged yet", ErrNotSynced, c.opts.Address)
	}
	spreadSelector, err := DefaultSpreadSelector(pod, c.spread)
	if err != nil {
		return podCall{}, err
	}
	return podCall{pod: PodToProto(pod), epoch: epoch, minSequence: c.lastSent.Load(), spreadSelector: spreadSelector}, nil
}

// checkAnswer rejects an answer from another epoch (and asks for a resync) or one older than
// what was sent.
func (c *GRPCClient) checkAnswer(method string, call podCall, epoch string, applied uint64) error {
	if epoch != call.epoch {
		c.requestEpochResync()
		return fmt.Errorf("%w: %s answered with epoch %q, synced with %q", ErrEpochChanged, method, epoch, call.epoch)
	}
	if applied < call.minSequence {
		return fmt.Errorf("%w: applied sequence %d < %d sent", ErrStale, applied, call.minSequence)
	}
	return nil
}

// Assume implements Client. Pods assumed and not yet seen bound are assumed again on a restarted
// engine after its snapshot. The claims the engine allocated are kept in the claim tracker as
// pending until PreBind writes them or the pod is forgotten, so that a snapshot sent meanwhile
// (to a restarted engine) has them allocated.
func (c *GRPCClient) Assume(ctx context.Context, pod *v1.Pod, node string) ([]ClaimAllocation, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.synced {
		return nil, fmt.Errorf("%w at %s: the Sync stream is down or no snapshot is acknowledged yet", ErrNotSynced, c.opts.Address)
	}
	allocations, err := c.assumeRPC(ctx, pod, node, c.epoch)
	if err != nil {
		return nil, err
	}
	c.view.assume(pod, node)
	key := podKey(pod.Namespace, pod.Name)
	c.pending.Lock()
	c.assumed[key] = assumption{pod: pod, node: node, allocations: allocations}
	delete(c.toForget, key)
	c.pending.Unlock()
	for _, a := range allocations {
		c.claims.assumePending(a)
	}
	return allocations, nil
}

// dropAssumed forgets the shim's record of an assumed pod and the pending allocations of its
// claims.
func (c *GRPCClient) dropAssumed(key string) {
	c.pending.Lock()
	a, ok := c.assumed[key]
	delete(c.assumed, key)
	c.pending.Unlock()
	if ok {
		for _, alloc := range a.allocations {
			c.claims.forget(alloc.Namespace, alloc.Name)
		}
	}
}

// Forget implements Client.
func (c *GRPCClient) Forget(ctx context.Context, pod *v1.Pod) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	key := podKey(pod.Namespace, pod.Name)
	c.dropAssumed(key)
	if !c.synced {
		// A restarted engine never saw the assumption; the same engine gets the Forget retried
		// after the next snapshot.
		c.retryForget(key, pod.Namespace, pod.Name)
		return fmt.Errorf("%w at %s: Forget deferred to the next resync", ErrNotSynced, c.opts.Address)
	}
	if err := c.forgetRPC(ctx, pod.Namespace, pod.Name, c.epoch); err != nil {
		c.retryForget(key, pod.Namespace, pod.Name)
		c.RequestResync()
		return err
	}
	c.view.forget(pod.Namespace, pod.Name)
	return nil
}

// Claims returns the client's claim tracker: the informer's ResourceClaims with the allocations
// the shim made that the informer does not show yet.
func (c *GRPCClient) Claims() *ClaimTracker { return c.claims }

// RequestResync asks the Sync loop to send a full snapshot soon.
func (c *GRPCClient) RequestResync() {
	select {
	case c.resyncCh <- struct{}{}:
	default:
	}
}

// requestEpochResync is RequestResync for an answer from another epoch.
func (c *GRPCClient) requestEpochResync() {
	c.resyncEpoch.Store(true)
	c.RequestResync()
}

// takeResyncReason is the reason for the resync asked for on resyncCh, for the metric.
func (c *GRPCClient) takeResyncReason() string {
	if c.resyncEpoch.Swap(false) {
		return ResyncEpochChanged
	}
	return ResyncRequested
}

// Synced reports whether the engine has acknowledged a snapshot on the current stream, and
// returns the epoch and the last sequence sent.
func (c *GRPCClient) Synced() (bool, string, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.synced, c.epoch, c.lastSent.Load()
}

func (c *GRPCClient) retryForget(key, namespace, name string) {
	c.pending.Lock()
	c.toForget[key] = forgetRef{namespace: namespace, name: name}
	c.pending.Unlock()
}

// assumeRPC calls Assume and converts the allocations. An answer with a malformed allocation is
// an error, and the assumption is forgotten again (retried after the next resync if that fails).
func (c *GRPCClient) assumeRPC(ctx context.Context, pod *v1.Pod, node, epoch string) ([]ClaimAllocation, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.rpc.Assume(ctx, &sextantv1.AssumeRequest{Pod: PodToProto(pod), Node: node, Epoch: epoch})
	observeRequest(methodAssume, start, err)
	if err != nil {
		return nil, c.callError("Assume", err)
	}
	if resp.Epoch != epoch {
		c.requestEpochResync()
		return nil, fmt.Errorf("%w: Assume answered with epoch %q, synced with %q", ErrEpochChanged, resp.Epoch, epoch)
	}
	var allocations []ClaimAllocation
	for _, a := range resp.Allocations {
		converted, err := ClaimAllocationFromProto(a)
		if err == nil && converted.Namespace != pod.Namespace {
			err = fmt.Errorf("claim %s/%s is not in the pod's namespace", converted.Namespace, converted.Name)
		}
		if err != nil {
			if ferr := c.forgetRPC(ctx, pod.Namespace, pod.Name, epoch); ferr != nil {
				c.retryForget(podKey(pod.Namespace, pod.Name), pod.Namespace, pod.Name)
			}
			return nil, fmt.Errorf("%w: malformed Assume answer: %w", ErrEngine, err)
		}
		allocations = append(allocations, converted)
	}
	return allocations, nil
}

func (c *GRPCClient) forgetRPC(ctx context.Context, namespace, name, epoch string) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	start := time.Now()
	_, err := c.rpc.Forget(ctx, &sextantv1.ForgetRequest{Namespace: namespace, Name: name, Epoch: epoch})
	if status.Code(err) == codes.NotFound {
		observeRequest(methodForget, start, nil) // not an error for the shim
		return nil                               // the engine already dropped it (bound, deleted, or never assumed)
	}
	observeRequest(methodForget, start, err)
	if err != nil {
		return c.callError("Forget", err)
	}
	return nil
}

// callError classifies a failed call. FAILED_PRECONDITION is the engine's epoch mismatch.
func (c *GRPCClient) callError(method string, err error) error {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("%w at %s: %s: %s", ErrUnavailable, c.opts.Address, method, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %s at %s took longer than %v", ErrTimeout, method, c.opts.Address, c.opts.Timeout)
	case codes.FailedPrecondition:
		c.requestEpochResync()
		return fmt.Errorf("%w: %s: %s", ErrEpochChanged, method, st.Message())
	case codes.Canceled:
		return fmt.Errorf("%w: %s at %s canceled: %s", ErrUnavailable, method, c.opts.Address, st.Message())
	default:
		return fmt.Errorf("%w: %s: %s: %s", ErrEngine, method, st.Code(), st.Message())
	}
}

func podKey(namespace, name string) string { return namespace + "/" + name }
