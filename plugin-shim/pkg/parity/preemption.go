package parity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// podNominator is the part of upstream's scheduling queue the framework reads while filtering:
// the pending pods nominated to each node (fwk.PodNominator), with the queue's nominator
// semantics (backend/queue/nominator.go): adding a pod replaces its earlier nomination, ModeNoop
// takes status.nominatedNodeName, an empty node name clears it. The harness nominates every
// pending pod of the snapshot that carries status.nominatedNodeName and drops a pod's nomination
// when it is bound, as the queue does when it adds and assumes pods.
type podNominator struct {
	byNode map[string][]fwk.PodInfo
	node   map[types.UID]string
}

func newPodNominator() *podNominator {
	return &podNominator{byNode: map[string][]fwk.PodInfo{}, node: map[types.UID]string{}}
}

func (n *podNominator) add(p *v1.Pod) error {
	pi, err := framework.NewPodInfo(p)
	if err != nil {
		return fmt.Errorf("nominating %s: %w", podKey(p), err)
	}
	n.AddNominatedPod(klog.Background(), pi, nil)
	return nil
}

// AddNominatedPod implements fwk.PodNominator.
func (n *podNominator) AddNominatedPod(_ klog.Logger, pi fwk.PodInfo, ni *fwk.NominatingInfo) {
	n.DeleteNominatedPodIfExists(pi.GetPod())
	var node string
	switch ni.Mode() {
	case fwk.ModeOverride:
		node = ni.NominatedNodeName
	case fwk.ModeNoop:
		node = pi.GetPod().Status.NominatedNodeName
	}
	if node == "" || pi.GetPod().Spec.NodeName != "" {
		return
	}
	n.node[pi.GetPod().UID] = node
	n.byNode[node] = append(n.byNode[node], pi)
}

// DeleteNominatedPodIfExists implements fwk.PodNominator.
func (n *podNominator) DeleteNominatedPodIfExists(p *v1.Pod) {
	node, ok := n.node[p.UID]
	if !ok {
		return
	}
	n.byNode[node] = slices.DeleteFunc(n.byNode[node], func(pi fwk.PodInfo) bool { return pi.GetPod().UID == p.UID })
	if len(n.byNode[node]) == 0 {
		delete(n.byNode, node)
	}
	delete(n.node, p.UID)
}

// UpdateNominatedPod implements fwk.PodNominator.
func (n *podNominator) UpdateNominatedPod(logger klog.Logger, old *v1.Pod, pi fwk.PodInfo) {
	var ni *fwk.NominatingInfo
	if old.Status.NominatedNodeName == "" && pi.GetPod().Status.NominatedNodeName == "" {
		if node, ok := n.node[old.UID]; ok {
			ni = &fwk.NominatingInfo{NominatingMode: fwk.ModeOverride, NominatedNodeName: node}
		}
	}
	n.DeleteNominatedPodIfExists(old)
	n.AddNominatedPod(logger, pi, ni)
}

// NominatedPodsForNode implements fwk.PodNominator.
func (n *podNominator) NominatedPodsForNode(node string) []fwk.PodInfo {
	return slices.Clone(n.byNode[node])
}

// startNanos is a pod's start time for ordering victims: upstream reads time.Now() for a pod
// without status.startTime (util.GetPodStartTime), later than every recorded start; the harness
// takes the largest time instead of the clock, so such pods tie with each other (as in the engine,
// whose kNoStartTime is INT64_MAX) rather than by the nanoseconds between two clock reads.
func startNanos(p *v1.Pod) int64 {
	if p.Status.StartTime == nil {
		return math.MaxInt64
	}
	return p.Status.StartTime.UnixNano()
}

// moreImportantVictim is upstream's preemption.MoreImportantVictim for single pods (higher
// priority, then earlier start) with the order it leaves open fixed: a pod without a start time
// after every pod with one, then the pod key, where upstream's sort.Slice is not stable
// (docs/parity.md, deliberate difference 13). Set as the plugin's MoreImportantVictim, the
// documented customisation point, so SelectVictimsOnNode reprieves equal victims in the
// engine's order.
func moreImportantVictim(a, b preemption.Victim) bool {
	if a.Priority() != b.Priority() {
		return a.Priority() > b.Priority()
	}
	pa, pb := a.Pods()[0].GetPod(), b.Pods()[0].GetPod()
	if sa, sb := startNanos(pa), startNanos(pb); sa != sb {
		return sa < sb
	}
	return podKey(pa) < podKey(pb)
}

// PreemptVerdict is one side's preemption answer for one pod.
type PreemptVerdict struct {
	// Message is the PostFilter status message when preemption cannot help (not eligible, no
	// candidate); empty when a node is nominated.
	Message string
	Error   string // upstream's PostFilter failed with an error
	// Errors are the dry run's filter errors that Error aggregates, each as the plugin wrote it
	// (without the framework's "running ... filter plugin: " prefix).
	Errors     []string
	Candidates map[string]*PreemptCandidate
	Ties       []string // sorted: the candidates left after the last criterion
	Nominated  string   // the engine's choice (upstream's is a Go map order pick among Ties)
}

// PreemptCandidate is one candidate node's victims, most important first.
type PreemptCandidate struct {
	Victims       []*v1.Pod
	PDBViolations int64
}

// preemptUpstream runs DefaultPreemption's evaluation (preemption.Evaluator.evaluate without
// actuation) for pod after cycle cyc found no feasible node: PodEligibleToPreemptOthers with the
// cycle's status of the nominated node, the Unschedulable nodes as potential nodes, the
// Evaluator's own DryRunPreemption on all of them (args: no sampling) with the PDBs its lister
// holds, the FitError message when no candidate is found, and pickOneNodeForPreemption's
// criteria (preemptionTies) on the candidates.
func (u *upstream) preemptUpstream(ctx context.Context, pod *v1.Pod, cyc *cycleResult) *PreemptVerdict {
	out := &PreemptVerdict{}
	pl := u.preempt
	nominated, ok := cyc.statuses[pod.Status.NominatedNodeName]
	if !ok {
		nominated = fwk.NewStatus(fwk.UnschedulableAndUnresolvable) // NodeToStatus's absent status
	}
	if ok, msg := pl.PodEligibleToPreemptOthers(ctx, pod, nominated); !ok {
		out.Message = "preemption: " + msg
		return out
	}
	allNodes, err := u.snap.NodeInfos().List()
	if err != nil {
		out.Error = err.Error()
		return out
	}
	if len(allNodes) == 0 {
		out.Error = "preemption: no nodes available"
		return out
	}
	var potential []fwk.NodeInfo // NodeToStatus.NodesForStatusCode(Unschedulable)
	for _, ni := range allNodes {
		if st, ok := cyc.statuses[ni.Node().Name]; ok && st.Code() == fwk.Unschedulable {
			potential = append(potential, ni)
		}
	}
	nodeStatuses := framework.NewDefaultNodeToStatus()
	var candidates []preemption.Candidate
	if len(potential) > 0 {
		pdbs, err := pl.Evaluator.PdbLister.List(labels.Everything())
		if err != nil {
			out.Error = err.Error()
			return out
		}
		var dryErr error
		candidates, nodeStatuses, dryErr = pl.Evaluator.DryRunPreemption(ctx, cyc.state, pod, potential, pdbs, 0, int32(len(potential)))
		if dryErr != nil && len(candidates) == 0 {
			out.Error = "preemption: " + dryErr.Error()
			errs := []error{dryErr}
			if agg, ok := dryErr.(utilerrors.Aggregate); ok {
				errs = agg.Errors()
			}
			for _, e := range errs {
				out.Errors = append(out.Errors, cycleErrorMessage(e.Error()))
			}
			return out
		}
	}
	if len(candidates) == 0 {
		fitError := &framework.FitError{Pod: pod, NumAllNodes: len(allNodes), Diagnosis: framework.Diagnosis{NodeToStatus: nodeStatuses}}
		fitError.Diagnosis.NodeToStatus.SetAbsentNodesStatus(fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "Preemption is not helpful for scheduling"))
		out.Message = "preemption: " + fitError.Error()
		return out
	}
	out.Candidates = map[string]*PreemptCandidate{}
	for _, c := range candidates {
		out.Candidates[c.Name()] = &PreemptCandidate{Victims: c.Victims().Pods, PDBViolations: c.Victims().NumPDBViolations}
	}
	out.Ties = preemptionTies(out.Candidates)
	return out
}

// preemptionTies is pickOneNodeForPreemption (framework/preemption, unexported) with its default
// score functions, returning every node still tied after the last one (upstream returns the
// first of them in Go map order), sorted. A victim without a start time counts as starting at
// the largest time (startNanos).
func preemptionTies(cands map[string]*PreemptCandidate) []string {
	all := slices.Sorted(func(yield func(string) bool) {
		for k := range cands {
			if !yield(k) {
				return
			}
		}
	})
	scoreFuncs := []func(node string) int64{
		func(node string) int64 { return -cands[node].PDBViolations },
		func(node string) int64 { return -int64(corev1helpers.PodPriority(cands[node].Victims[0])) },
		func(node string) int64 {
			var sum int64
			for _, p := range cands[node].Victims {
				sum += int64(corev1helpers.PodPriority(p)) + int64(math.MaxInt32+1)
			}
			return -sum
		},
		func(node string) int64 { return -int64(len(cands[node].Victims)) },
		func(node string) int64 { // util.GetEarliestPodStartTime
			victims := cands[node].Victims
			earliest, top := startNanos(victims[0]), corev1helpers.PodPriority(victims[0])
			for _, p := range victims {
				switch prio := corev1helpers.PodPriority(p); {
				case prio == top:
					earliest = min(earliest, startNanos(p))
				case prio > top:
					top, earliest = prio, startNanos(p)
				}
			}
			return earliest
		},
	}
	for _, f := range scoreFuncs {
		var selected []string
		best := int64(math.MinInt64)
		for _, node := range all {
			score := f(node)
			if score > best {
				best, selected = score, nil
			}
			if score == best {
				selected = append(selected, node)
			}
		}
		if len(selected) == 1 {
			return selected
		}
		all = selected
	}
	return all
}

// enginePreemptVerdict turns a PreemptResponse (list_candidates) into a PreemptVerdict; pods maps
// victim keys to the pods the harness knows.
func enginePreemptVerdict(resp *sextantv1.PreemptResponse, pods map[string]*v1.Pod) *PreemptVerdict {
	out := &PreemptVerdict{Nominated: resp.NominatedNode}
	if resp.NominatedNode == "" {
		out.Message = resp.Message
	}
	if len(resp.AllCandidates) > 0 {
		out.Candidates = map[string]*PreemptCandidate{}
	}
	for _, c := range resp.AllCandidates {
		pc := &PreemptCandidate{PDBViolations: c.PdbViolations}
		for _, v := range c.Victims {
			p := pods[v.Namespace+"/"+v.Name]
			if p == nil { // not a pod the harness knows: keep its identity and priority
				p = &v1.Pod{}
				p.Namespace, p.Name, p.Spec.Priority = v.Namespace, v.Name, &v.Priority
			}
			pc.Victims = append(pc.Victims, p)
		}
		out.Candidates[c.Node] = pc
	}
	out.Ties = slices.Clone(resp.FinalTies)
	sort.Strings(out.Ties)
	return out
}

// victimRuns splits victims (most important first) into runs of equal priority and start time,
// each as a sorted list of keys: upstream's order inside a run is not defined (sort.Slice).
func victimRuns(victims []*v1.Pod) [][]string {
	var out [][]string
	for i, p := range victims {
		if i == 0 || corev1helpers.PodPriority(p) != corev1helpers.PodPriority(victims[i-1]) || startNanos(p) != startNanos(victims[i-1]) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], podKey(p))
	}
	for _, run := range out {
		sort.Strings(run)
	}
	return out
}

func sameVictims(a, b []*v1.Pod) bool {
	return slices.EqualFunc(victimRuns(a), victimRuns(b), slices.Equal)
}

func victimsString(c *PreemptCandidate) string {
	if c == nil {
		return "not a candidate"
	}
	var parts []string
	for _, p := range c.Victims {
		start := "no start"
		if p.Status.StartTime != nil {
			start = p.Status.StartTime.UTC().Format("15:04:05")
		}
		parts = append(parts, fmt.Sprintf("%s(prio %d, %s)", podKey(p), corev1helpers.PodPriority(p), start))
	}
	return fmt.Sprintf("victims [%s], pdb violations %d", strings.Join(parts, " "), c.PDBViolations)
}

// comparePreemption compares both sides' preemption for one pod and returns whether they agree.
func comparePreemption(r *Report, snap, pod string, u, e *PreemptVerdict) bool {
	before := r.Total()
	diff := func(node, up, en string) {
		r.add(Diff{Snapshot: snap, Pod: pod, Node: node, Kind: KindPreemption, Upstream: up, Engine: en})
	}
	r.PreemptionCases++
	if u.Error != "" || e.Error != "" {
		// Both fail with an error: the engine reports the first node's error, upstream all of
		// them (its dry run is parallel, so their order varies).
		if u.Error == "" || e.Error == "" || !slices.Contains(u.Errors, e.Error) {
			diff("", fmt.Sprintf("PostFilter error %q, message %q", u.Error, u.Message),
				fmt.Sprintf("error %q, nominated %q, message %q", e.Error, e.Nominated, e.Message))
		} else {
			r.BothErrors++
		}
		return false
	}
	if len(u.Candidates) == 0 {
		if e.Nominated != "" || len(e.Candidates) > 0 {
			diff("", "no nomination: "+u.Message, fmt.Sprintf("nominated %q, %d candidates", e.Nominated, len(e.Candidates)))
		} else if u.Message != e.Message {
			diff("", "message "+u.Message, "message "+e.Message)
		}
		return r.Total() == before
	}
	r.PreemptionNominated++
	if len(u.Ties) > 1 {
		r.PreemptionTies++
	}
	for _, c := range u.Candidates {
		if c.PDBViolations > 0 {
			r.PreemptionPDB++
		}
	}
	if e.Nominated == "" {
		diff("", fmt.Sprintf("%d candidates, ties %v", len(u.Candidates), u.Ties), "no nomination: "+e.Message)
		return false
	}
	nodes := map[string]bool{}
	for n := range u.Candidates {
		nodes[n] = true
	}
	for n := range e.Candidates {
		nodes[n] = true
	}
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for k := range nodes {
			if !yield(k) {
				return
			}
		}
	}) {
		uc, ec := u.Candidates[n], e.Candidates[n]
		r.PreemptionCandidates++
		if uc == nil || ec == nil || uc.PDBViolations != ec.PDBViolations || !sameVictims(uc.Victims, ec.Victims) {
			diff(n, victimsString(uc), victimsString(ec))
		}
	}
	if !slices.Equal(u.Ties, e.Ties) {
		diff("", fmt.Sprintf("final ties %v", u.Ties), fmt.Sprintf("final ties %v (nominated %s)", e.Ties, e.Nominated))
	} else if !slices.Contains(u.Ties, e.Nominated) {
		diff("", fmt.Sprintf("final ties %v", u.Ties), fmt.Sprintf("nominated %s, not one of its final ties", e.Nominated))
	}
	return r.Total() == before
}
