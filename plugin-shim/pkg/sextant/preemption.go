package sextant

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	"k8s.io/kubernetes/pkg/scheduler/metrics"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// PostFilter is upstream DefaultPreemption's, with the decision made by the engine.
//
// The engine's Preempt answers which node to nominate and which pods to evict. The actuation is
// upstream's own code: the decision goes through preemption.Evaluator.Preempt with an Interface
// (engineDecision) whose dry run accepts exactly the engine's node and victims, so upstream's
// Executor deletes the victims (DisruptionTarget condition by status patch, then a delete with
// the victim's UID precondition, a "Preempted" event on each), clears the nomination of
// lower-priority pods nominated to the node, and runs asynchronously when the
// SchedulerAsyncPreemption gate is on (its default since v1.33) with the same PreEnqueue guard.

const preemptionKey fwk.StateKey = "Sextant/preemption"

const (
	// Upstream keeps the pod's nominated node only when the pod is not eligible to preempt.
	notEligiblePrefix       = "preemption: not eligible"
	preemptionMessagePrefix = "preemption: "
)

var (
	_ fwk.PostFilterPlugin = &Plugin{}
	_ fwk.PreEnqueuePlugin = &Plugin{}
	_ preemption.Interface = &engineDecision{}
)

// preemptor holds upstream's Executor and Evaluator for the profile.
type preemptor struct {
	handle    fwk.Handle
	fts       feature.Features
	executor  *preemption.Executor
	evaluator *preemption.Evaluator
}

func newPreemptor(h fwk.Handle, fts feature.Features) *preemptor {
	p := &preemptor{handle: h, fts: fts, executor: preemption.NewExecutor(h, fts)}
	p.evaluator = preemption.NewEvaluator(Name, h, &engineDecision{}, p.executor)
	return p
}

// decision is the engine's answer, kept in the CycleState for engineDecision to read.
type decision struct {
	node          string
	victimUIDs    []types.UID // most important first
	pdbViolations int
}

// Clone implements fwk.StateData; the decision is never modified.
func (d *decision) Clone() fwk.StateData { return d }

// PostFilter implements fwk.PostFilterPlugin as upstream's DynamicResources and DefaultPreemption
// PostFilters in that order. First, an allocated claim of the pod that the engine reports
// unreachable from some node and that no other pod holds is deallocated (Unschedulable
// "deallocation of ResourceClaim completed"). Then one Preempt call on the engine; when it
// nominates a node, upstream's Evaluator and Executor actuate it. When preemption cannot help
// the status is Unschedulable with the engine's message (upstream's, "preemption: 0/N nodes are
// available: ..."), after the deallocation's as the framework would join them.
func (pl *Plugin) PostFilter(ctx context.Context, state fwk.CycleState, pod *v1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	logger := pl.logger(ctx, pod)
	var deallocated *fwk.Status
	if e, err := readEvaluation(state); err == nil && pl.dra != nil {
		deallocated = pl.dra.deallocateUnavailableClaim(ctx, logger, pod, e.unavailableClaims)
		if deallocated != nil && !deallocated.IsRejected() {
			return nil, deallocated
		}
	}
	result, status := pl.preempt(ctx, state, pod, m)
	if deallocated == nil || status.IsSuccess() || status.Code() != fwk.Unschedulable {
		return result, status
	}
	return result, fwk.NewStatus(fwk.Unschedulable, append(deallocated.Reasons(), status.Reasons()...)...)
}

// preempt is DefaultPreemption's PostFilter with the engine's decision.
func (pl *Plugin) preempt(ctx context.Context, state fwk.CycleState, pod *v1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	defer metrics.PreemptionAttempts.Inc()
	logger := pl.logger(ctx, pod)
	if pl.preemptor == nil {
		return nil, fwk.AsStatus(fmt.Errorf("preemption: the %s plugin was built without a framework handle", Name))
	}
	nodes, err := pl.preemptor.handle.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		return nil, fwk.AsStatus(fmt.Errorf("preemption: listing the scheduler's snapshot: %w", err))
	}
	if st := pl.awaitEngine(ctx, logger, "Preempt", pod, pl.snapshot.View(nodes)); st != nil {
		return nil, fwk.NewStatus(st.Code(), preemptionMessagePrefix+st.Message())
	}
	resp, err := pl.client.Preempt(ctx, pod)
	if err != nil {
		logger.Error(err, "Preempt failed; no preemption in this cycle")
		return nil, fwk.AsStatus(fmt.Errorf("preemption: failing closed: %w", err))
	}
	if resp.NominatedNode == "" {
		logger.V(3).Info("Engine found no preemption that helps", "message", resp.Message)
		msg := resp.Message
		if msg == "" {
			msg = preemptionMessagePrefix + "the Sextant engine found no candidate node"
		}
		if strings.HasPrefix(msg, notEligiblePrefix) {
			// Upstream keeps the pod's nominated node when the pod is not eligible.
			return nil, fwk.NewStatus(fwk.Unschedulable, msg)
		}
		// No candidate: upstream clears the pod's nominated node.
		return framework.NewPostFilterResultWithNominatedNode(""), fwk.NewStatus(fwk.Unschedulable, msg)
	}
	d, err := newDecision(resp)
	if err != nil {
		logger.Error(err, "Malformed Preempt answer from the engine")
		return nil, fwk.AsStatus(fmt.Errorf("preemption: failing closed: malformed Preempt answer from the Sextant engine: %w", err))
	}
	logger.V(2).Info("Engine nominated a node for preemption", "node", d.node, "victims", len(d.victimUIDs),
		"pdbViolations", d.pdbViolations, "candidates", resp.Candidates)
	if err := pl.preemptor.checkSnapshot(d); err != nil {
		// The engine answered from a state the scheduler's cache has moved past (a victim it
		// names is already gone): retry after backoff instead of waiting for another event.
		logger.V(2).Info("Engine's preemption decision is behind the scheduler's cache; retrying", "err", err)
		pl.preemptor.handle.Activate(logger, map[string]*v1.Pod{pod.Name: pod})
		return nil, fwk.AsStatus(fmt.Errorf("preemption: %w", err))
	}
	state.Write(preemptionKey, d)
	result, status := pl.preemptor.evaluator.Preempt(ctx, state, pod, engineNodeOnly{NodeToStatusReader: m, node: d.node})
	if msg := status.Message(); msg != "" {
		return result, fwk.NewStatus(status.Code(), preemptionMessagePrefix+msg)
	}
	return result, status
}

// PreEnqueue implements fwk.PreEnqueuePlugin as DefaultPreemption does (with asynchronous
// preemption, a pod whose victims are still being deleted waits) and as DynamicResources does (a
// pod waits until its claims exist, are not being deleted, and, when made from templates, are
// the pod's).
func (pl *Plugin) PreEnqueue(ctx context.Context, p *v1.Pod) *fwk.Status {
	if pl.preemptor != nil && pl.preemptor.fts.EnableAsyncPreemption && pl.preemptor.executor.IsPodRunningPreemption(p.GetUID()) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "waiting for the preemption for this pod to be finished")
	}
	if pl.dra != nil && len(p.Spec.ResourceClaims) > 0 {
		if err := pl.dra.checkPodClaims(p); err != nil {
			pl.logger(ctx, p).V(5).Info("Pod waits for its resource claims", "reason", err.Error())
			return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, err.Error())
		}
	}
	return nil
}

// checkSnapshot fails when the engine's node or one of its victims is not in the scheduler's
// snapshot.
func (p *preemptor) checkSnapshot(d *decision) error {
	ni, err := p.handle.SnapshotSharedLister().NodeInfos().Get(d.node)
	if err != nil {
		return fmt.Errorf("node %s nominated by the Sextant engine is not in the scheduler's snapshot", d.node)
	}
	on := make(map[types.UID]bool, len(ni.GetPods()))
	for _, pi := range ni.GetPods() {
		on[pi.GetPod().UID] = true
	}
	for _, uid := range d.victimUIDs {
		if !on[uid] {
			return fmt.Errorf("victim %s named by the Sextant engine is not on node %s in the scheduler's snapshot", uid, d.node)
		}
	}
	return nil
}

func newDecision(resp *sextantv1.PreemptResponse) (*decision, error) {
	if len(resp.Victims) == 0 {
		return nil, fmt.Errorf("node %s nominated without victims", resp.NominatedNode)
	}
	d := &decision{node: resp.NominatedNode, pdbViolations: int(resp.PdbViolations)}
	seen := map[types.UID]bool{}
	for i, v := range resp.Victims {
		if v.Uid == "" {
			return nil, fmt.Errorf("victims[%d] (%s/%s) has no uid", i, v.Namespace, v.Name)
		}
		uid := types.UID(v.Uid)
		if seen[uid] {
			return nil, fmt.Errorf("victim %s/%s appears twice", v.Namespace, v.Name)
		}
		seen[uid] = true
		d.victimUIDs = append(d.victimUIDs, uid)
	}
	return d, nil
}

// engineNodeOnly is the filter statuses as upstream's Evaluator reads them for its dry run: of
// the nodes the filters left Unschedulable (where preemption might help) only the engine's. The
// Evaluator dry-runs every node of that list and builds each node's candidate victims before it
// asks engineDecision, which declines every node but the engine's: at 1,000 nodes that was 8.5 s
// of the scheduler's CPU in scheduler_perf's PreemptionBasic, for answers known in advance. The
// other statuses read through unchanged. Should the engine's node fail the dry run after all
// (checkSnapshot makes that a race), the FailedScheduling message counts the other nodes as
// "Preemption is not helpful for scheduling" rather than as dry-run failures.
type engineNodeOnly struct {
	fwk.NodeToStatusReader
	node string
}

// NodesForStatusCode implements fwk.NodeToStatusReader.
func (r engineNodeOnly) NodesForStatusCode(lister fwk.NodeInfoLister, code fwk.Code) ([]fwk.NodeInfo, error) {
	nodes, err := r.NodeToStatusReader.NodesForStatusCode(lister, code)
	if err != nil || code != fwk.Unschedulable {
		return nodes, err
	}
	for _, ni := range nodes {
		if n := ni.Node(); n != nil && n.Name == r.node {
			return []fwk.NodeInfo{ni}, nil
		}
	}
	return nil, nil
}

// engineDecision is the preemption.Interface whose dry run is the engine's decision: every node
// is checked (offset 0, all of them), the engine's node yields the engine's victims (found by UID
// among the node's pods in the scheduler's snapshot), every other node none. Eligibility was
// decided by the engine before the Evaluator runs.
type engineDecision struct{}

// GetOffsetAndNumCandidates implements preemption.Interface.
func (*engineDecision) GetOffsetAndNumCandidates(nodes int32) (int32, int32) { return 0, nodes }

// CandidatesToVictimsMap implements preemption.Interface as DefaultPreemption does.
func (*engineDecision) CandidatesToVictimsMap(candidates []preemption.Candidate) map[string]*extenderv1.Victims {
	m := make(map[string]*extenderv1.Victims, len(candidates))
	for _, c := range candidates {
		m[c.Name()] = c.Victims()
	}
	return m
}

// PodEligibleToPreemptOthers implements preemption.Interface: the engine already decided.
func (*engineDecision) PodEligibleToPreemptOthers(context.Context, *v1.Pod, *fwk.Status) (bool, string) {
	return true, ""
}

// SelectVictimsOnNode implements preemption.Interface.
func (*engineDecision) SelectVictimsOnNode(ctx context.Context, state fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo,
	_ []*preemption.DomainVictim, _ []*policy.PodDisruptionBudget) ([]*v1.Pod, int, *fwk.Status) {
	data, err := state.Read(preemptionKey)
	if err != nil {
		return nil, 0, fwk.AsStatus(fmt.Errorf("reading %q from the cycle state: %w", preemptionKey, err))
	}
	d, ok := data.(*decision)
	if !ok {
		return nil, 0, fwk.AsStatus(fmt.Errorf("%q in the cycle state has type %T", preemptionKey, data))
	}
	name := nodeInfo.Node().Name
	if name != d.node {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "the Sextant engine nominated another node")
	}
	byUID := make(map[types.UID]*v1.Pod, len(nodeInfo.GetPods()))
	for _, pi := range nodeInfo.GetPods() {
		byUID[pi.GetPod().UID] = pi.GetPod()
	}
	victims := make([]*v1.Pod, 0, len(d.victimUIDs))
	for _, uid := range d.victimUIDs {
		p, ok := byUID[uid]
		if !ok {
			klog.FromContext(ctx).V(2).Info("Engine's victim is not on the node in the scheduler's snapshot", "node", name, "uid", uid)
			return nil, 0, fwk.AsStatus(fmt.Errorf("the Sextant engine's victim %s is not on node %s in the scheduler's snapshot", uid, name))
		}
		victims = append(victims, p)
	}
	return victims, d.pdbViolations, nil
}

// OrderedScoreFuncs implements preemption.Interface: one candidate, nothing to order.
func (*engineDecision) OrderedScoreFuncs(context.Context, map[string]*extenderv1.Victims) []func(string) int64 {
	return nil
}
