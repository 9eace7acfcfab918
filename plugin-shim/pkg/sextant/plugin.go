// Package sextant is the Sextant scheduler-framework plugin. It forwards each scheduling cycle to
// the Sextant engine: PreFilter makes one Evaluate call per pod and keeps the answer in the
// CycleState; Filter and Score only read it (no call per node); Reserve and Unreserve become
// Assume and Forget; PostFilter is the engine's Preempt, actuated by upstream's preemption
// Executor (preemption.go). When the engine cannot be reached, is stale or has restarted, the cycle
// fails with an Error status and the pod goes through the normal backoff: nothing is bound on
// a guess.
package sextant

import (
	"context"
	"fmt"
	"math"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

// Name is the plugin's name in the scheduler configuration.
const Name = "Sextant"

const (
	evaluationKey fwk.StateKey = "Sextant/evaluation"
	assumedKey    fwk.StateKey = "Sextant/assumed"
	// The engine's chosen node scores MaxNodeScore; every other feasible node scores below it.
	maxOtherScore = fwk.MaxNodeScore - 1
)

// Plugin is the Sextant plugin. It deliberately does not implement SignPlugin: without it the
// framework turns opportunistic batching off, so every pod gets its own Evaluate.
type Plugin struct {
	client engineclient.Client
	// preemptor actuates the engine's preemption decisions; nil without a framework handle.
	preemptor *preemptor
	// snapshot fingerprints the cycle's snapshot for the consistency guard (awaitEngine).
	snapshot engineclient.SnapshotView
	// consistencyWait bounds how long a cycle waits for the engine to catch up with the
	// scheduler's cache.
	consistencyWait time.Duration
	// dra writes and releases resource claims (dynamicresources.go); nil without a framework
	// handle.
	dra *dra
}

// DefaultConsistencyWait bounds how long a cycle waits for the engine to reflect the cycle's
// snapshot before it fails with an Error status (the pod is retried after backoff).
const DefaultConsistencyWait = time.Second

var (
	_ fwk.PreFilterPlugin = &Plugin{}
	_ fwk.FilterPlugin    = &Plugin{}
	_ fwk.ScorePlugin     = &Plugin{}
	_ fwk.ReservePlugin   = &Plugin{}
)

// New is the plugin factory the scheduler calls once per profile that enables the plugin. It
// validates the args, registers the Sync loop's informers with the handle's informer factory and
// starts the Sync loop, which runs until ctx ends.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
	args, err := DecodeArgs(obj)
	if err != nil {
		return nil, err
	}
	logger := klog.FromContext(ctx).WithValues("plugin", Name)
	client, err := engineclient.New(engineclient.Options{
		Address:         args.EngineAddress,
		Timeout:         args.Timeout.Duration,
		ScoringStrategy: args.scoringStrategyProto(),
	}, h.SharedInformerFactory(), logger)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	go client.Run(ctx)
	logger.Info("Sextant plugin created", "engineAddress", args.EngineAddress, "timeout", args.Timeout.Duration,
		"scoringStrategy", args.ScoringStrategy)
	pl := NewWithHandle(client, h, feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate))
	pl.dra.bindingTimeout = args.BindingTimeout.Duration
	return pl, nil
}

// NewWithClient returns a plugin that talks to the engine through client (tests pass a fake).
// Without a framework handle PostFilter fails with an Error status.
func NewWithClient(client engineclient.Client) *Plugin {
	return &Plugin{client: client, consistencyWait: DefaultConsistencyWait}
}

// NewWithHandle is NewWithClient with the framework handle and scheduler features that
// PostFilter's actuation (upstream's preemption Executor) needs.
func NewWithHandle(client engineclient.Client, h fwk.Handle, fts feature.Features) *Plugin {
	return &Plugin{client: client, preemptor: newPreemptor(h, fts), consistencyWait: DefaultConsistencyWait,
		dra: newDRA(client, h, fts)}
}

// awaitEngine is the consistency guard: a cycle never evaluates an engine state older than the
// cycle's snapshot of the scheduler's cache (nodes, and bound or assumed pods per node), nor, for
// a pod with resource claims, older than the informers' device classes, resource slices and the
// pod's claims. The scheduler's cache and the Sync loop listen to the same informers at their
// own pace; when the engine has not yet acknowledged an event the snapshot already reflects,
// wait (bounded) for it. Past the bound the cycle fails with an Error status, so the pod is
// retried after backoff instead of being parked as unschedulable on a stale answer.
func (pl *Plugin) awaitEngine(ctx context.Context, logger klog.Logger, what string, pod *v1.Pod, view engineclient.CacheView) *fwk.Status {
	start := time.Now()
	if w, ok := pl.client.(engineclient.ViewWaiter); ok {
		if err := w.AwaitView(ctx, view, pl.consistencyWait); err != nil {
			logger.Error(err, "Engine is behind the scheduler's cache; failing the scheduling cycle closed", "call", what)
			return fwk.AsStatus(fmt.Errorf("failing closed: %w", err))
		}
	}
	if w, ok := pl.client.(engineclient.DRAWaiter); ok && len(pod.Spec.ResourceClaims) > 0 {
		if err := w.AwaitDRA(ctx, pod, max(pl.consistencyWait-time.Since(start), 0)); err != nil {
			logger.Error(err, "Engine is behind the informers' DRA objects; failing the scheduling cycle closed", "call", what)
			return fwk.AsStatus(fmt.Errorf("failing closed: %w", err))
		}
	}
	if waited := time.Since(start); waited > 5*time.Millisecond {
		logger.V(2).Info("Waited for the engine to catch up with the scheduler's cache", "call", what, "waited", waited)
	}
	return nil
}

// Name implements fwk.Plugin.
func (pl *Plugin) Name() string { return Name }

// evaluation is the engine's answer for one pod, as Filter, Score and PostFilter read it.
type evaluation struct {
	chosen string
	nodes  map[string]verdict
	// unavailableClaims are the pod's allocated claims ("namespace/name") whose devices some
	// node cannot reach; PostFilter may deallocate one.
	unavailableClaims []string
}

type verdict struct {
	status *fwk.Status // nil: feasible
	score  int64       // framework score, feasible nodes only
}

// Clone implements fwk.StateData; the evaluation is never modified after PreFilter.
func (e *evaluation) Clone() fwk.StateData { return e }

// assumed records that Reserve assumed the pod, with the claims the engine allocated for it
// (PreBind writes them).
type assumed struct {
	allocations []engineclient.ClaimAllocation
}

// Clone implements fwk.StateData; never modified after Reserve.
func (a *assumed) Clone() fwk.StateData { return a }

// PreFilter implements fwk.PreFilterPlugin: one Evaluate call for the pod.
func (pl *Plugin) PreFilter(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	logger := pl.logger(ctx, pod)
	view := pl.snapshot.View(nodes)
	if st := pl.awaitEngine(ctx, logger, "Evaluate", pod, view); st != nil {
		return nil, st
	}
	resp, err := pl.client.Evaluate(ctx, pod)
	if err == nil && resp.ChosenNode != "" && chosenOnly(resp.ChosenNode, view) == nil {
		// The engine chose a node the cycle's snapshot does not have yet: the framework will
		// pick among the snapshot's feasible nodes, so every node's result is needed.
		resp, err = pl.client.EvaluateAll(ctx, pod)
	}
	if err != nil {
		logger.Error(err, "Evaluate failed; failing the scheduling cycle closed")
		return nil, fwk.AsStatus(fmt.Errorf("failing closed: %w", err))
	}
	e, err := newEvaluation(resp)
	if err != nil {
		logger.Error(err, "Malformed answer from the engine; failing the scheduling cycle closed")
		return nil, fwk.AsStatus(fmt.Errorf("failing closed: malformed Evaluate answer from the Sextant engine: %w", err))
	}
	state.Write(evaluationKey, e)
	if resp.PrefilterPlugin != "" {
		logger.V(3).Info("Engine rejected the pod in PreFilter", "enginePlugin", resp.PrefilterPlugin, "message", resp.PrefilterMessage)
		msg := resp.PrefilterMessage
		if msg == "" {
			msg = fmt.Sprintf("pod rejected by the engine's %s PreFilter", resp.PrefilterPlugin)
		}
		// The proto carries no code for a PreFilter rejection; upstream's are almost all
		// UnschedulableAndUnresolvable (preemption cannot help).
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, msg)
	}
	logger.V(4).Info("Engine evaluated the pod", "chosenNode", resp.ChosenNode, "feasibleNodes", resp.FeasibleNodes,
		"nodes", len(resp.Nodes), "appliedSequence", resp.AppliedSequence, "epoch", resp.Epoch)
	return chosenOnly(resp.ChosenNode, view), nil
}

// chosenOnly narrows the cycle to the engine's chosen node when the cycle's snapshot has it: the
// framework then runs Filter and Score on that node alone instead of on every node (the profile
// scores 100% of the nodes, so at 5,000 nodes this loop, with its per-node nominated-pod check, was
// most of the scheduler's CPU; docs/benchmarks.md). The placement is the same: the chosen node is
// feasible and scores highest. Without a chosen node (nothing fits) every node is filtered, so
// the FailedScheduling reasons and preemption's candidates cover every node, as upstream. When
// the engine chose a node the snapshot lacks (the engine saw it first), nothing is narrowed and
// the framework picks among the snapshot's feasible nodes.
func chosenOnly(chosen string, view engineclient.CacheView) *fwk.PreFilterResult {
	if chosen == "" || !view.Has(chosen) {
		return nil
	}
	return &fwk.PreFilterResult{NodeNames: sets.New(chosen)}
}

// PreFilterExtensions implements fwk.PreFilterPlugin. The engine's answer does not change when
// the framework simulates adding or removing pods: the engine runs preemption's dry run itself.
func (pl *Plugin) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter implements fwk.FilterPlugin: the engine's verdict for the node, with its reasons and code.
func (pl *Plugin) Filter(_ context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	e, err := readEvaluation(state)
	if err != nil {
		return fwk.AsStatus(err)
	}
	v, ok := e.nodes[nodeInfo.Node().Name]
	if !ok {
		// The scheduler's cache is ahead of what the engine has applied; a later cycle sees it.
		return fwk.NewStatus(fwk.Unschedulable, "node(s) not yet known to the Sextant engine")
	}
	return v.status
}

// Score implements fwk.ScorePlugin: the engine's chosen node scores 100, the other feasible
// nodes 0..99 in the engine's order, so the framework selects what the engine chose.
func (pl *Plugin) Score(_ context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	e, err := readEvaluation(state)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	name := nodeInfo.Node().Name
	v, ok := e.nodes[name]
	if !ok || v.status != nil {
		return 0, fwk.AsStatus(fmt.Errorf("node %s was not feasible in the Sextant engine's answer", name))
	}
	return v.score, nil
}

// ScoreExtensions implements fwk.ScorePlugin; scores are already in 0..100.
func (pl *Plugin) ScoreExtensions() fwk.ScoreExtensions { return nil }

// Reserve implements fwk.ReservePlugin: Assume on the engine. The node must be one the engine
// found feasible; it is the engine's choice unless the framework short-circuited scoring (a
// nominated node, or a single feasible node).
func (pl *Plugin) Reserve(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	logger := pl.logger(ctx, pod)
	e, err := readEvaluation(state)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if v, ok := e.nodes[nodeName]; !ok || v.status != nil {
		return fwk.AsStatus(fmt.Errorf("failing closed: node %s is not feasible in the Sextant engine's answer", nodeName))
	}
	if nodeName != e.chosen {
		logger.Info("Framework selected a feasible node other than the engine's choice", "node", nodeName, "chosenNode", e.chosen)
	}
	allocations, err := pl.client.Assume(ctx, pod, nodeName)
	if err != nil {
		logger.Error(err, "Assume failed; failing the scheduling cycle closed", "node", nodeName)
		return fwk.AsStatus(fmt.Errorf("failing closed: %w", err))
	}
	state.Write(assumedKey, &assumed{allocations: allocations})
	logger.V(4).Info("Assumed pod on the engine", "node", nodeName, "allocatedClaims", len(allocations))
	return nil
}

// Unreserve implements fwk.ReservePlugin: Forget on the engine if Reserve assumed the pod, then,
// as upstream's DynamicResources, the pod's reservations in its allocated claims are removed.
func (pl *Plugin) Unreserve(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) {
	logger := pl.logger(ctx, pod)
	if _, err := state.Read(assumedKey); err == nil {
		state.Delete(assumedKey)
		if err := pl.client.Forget(ctx, pod); err != nil {
			logger.Error(err, "Forget failed; it is retried after the next resync", "node", nodeName)
		} else {
			logger.V(4).Info("Forgot pod on the engine", "node", nodeName)
		}
	}
	if pl.dra != nil && len(pod.Spec.ResourceClaims) > 0 {
		pl.dra.unreserveClaims(ctx, logger, state, pod)
	}
}

func (pl *Plugin) logger(ctx context.Context, pod *v1.Pod) klog.Logger {
	return klog.FromContext(ctx).WithValues("plugin", Name, "pod", klog.KObj(pod))
}

func readEvaluation(state fwk.CycleState) (*evaluation, error) {
	data, err := state.Read(evaluationKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from the cycle state: %w", evaluationKey, err)
	}
	e, ok := data.(*evaluation)
	if !ok {
		return nil, fmt.Errorf("%q in the cycle state has type %T", evaluationKey, data)
	}
	return e, nil
}

// newEvaluation checks the engine's answer and turns it into per-node statuses and scores.
func newEvaluation(resp *sextantv1.EvaluateResponse) (*evaluation, error) {
	e := &evaluation{chosen: resp.ChosenNode, nodes: make(map[string]verdict, len(resp.Nodes)), unavailableClaims: resp.UnavailableClaims}
	var feasible []*sextantv1.NodeResult
	for i, n := range resp.Nodes {
		if n.Node == "" {
			return nil, fmt.Errorf("nodes[%d] has no name", i)
		}
		if _, dup := e.nodes[n.Node]; dup {
			return nil, fmt.Errorf("node %s appears twice", n.Node)
		}
		var code fwk.Code
		switch n.Code {
		case sextantv1.FilterCode_SUCCESS:
			e.nodes[n.Node] = verdict{}
			feasible = append(feasible, n)
			continue
		case sextantv1.FilterCode_UNSCHEDULABLE:
			code = fwk.Unschedulable
		case sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE:
			code = fwk.UnschedulableAndUnresolvable
		default:
			return nil, fmt.Errorf("node %s has filter code %v", n.Node, n.Code)
		}
		reasons := make([]string, 0, len(n.ReasonIds))
		for _, id := range n.ReasonIds {
			if int(id) >= len(resp.Reasons) {
				return nil, fmt.Errorf("node %s names reason %d of %d", n.Node, id, len(resp.Reasons))
			}
			reasons = append(reasons, resp.Reasons[id])
		}
		if len(reasons) == 0 {
			reasons = append(reasons, fmt.Sprintf("node(s) didn't satisfy the engine's %s filter", n.Plugin))
		}
		e.nodes[n.Node] = verdict{status: fwk.NewStatus(code, reasons...)}
	}
	switch {
	case resp.ChosenNode == "" && len(feasible) > 0:
		return nil, fmt.Errorf("%d nodes are feasible but none is chosen", len(feasible))
	case resp.ChosenNode != "":
		if v, ok := e.nodes[resp.ChosenNode]; !ok || v.status != nil {
			return nil, fmt.Errorf("chosen node %s is not a feasible node of the answer", resp.ChosenNode)
		}
	}
	scoreFeasible(e, feasible)
	return e, nil
}

// scoreFeasible gives the chosen node MaxNodeScore and scales the others' engine scores
// min-max into 0..99, so the chosen node is the unique best and the rest keep the engine's order.
func scoreFeasible(e *evaluation, feasible []*sextantv1.NodeResult) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, n := range feasible {
		if n.Node != e.chosen {
			lo, hi = min(lo, n.Score), max(hi, n.Score)
		}
	}
	for _, n := range feasible {
		score := fwk.MaxNodeScore
		if n.Node != e.chosen {
			score = maxOtherScore
			if hi > lo {
				score = int64(math.Floor(float64(maxOtherScore) * (float64(n.Score) - float64(lo)) / (float64(hi) - float64(lo))))
			}
		}
		e.nodes[n.Node] = verdict{score: score}
	}
}
