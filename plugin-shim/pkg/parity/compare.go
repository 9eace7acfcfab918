package parity

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

// Snapshot is the cluster state both sides see. Pods with spec.nodeName are running there;
// pods without are the pending pods compared, in order (see CompareOptions for whether each is
// placed before the next one is evaluated). Namespaces go to both sides; Services and the
// controllers stay on the harness's side, which computes each pod's default spread selector from
// them (as the shim does from its listers) and sends it with Evaluate.
type Snapshot struct {
	Name                   string // for reports: a file name, or "seed 42"
	Nodes                  []*v1.Node
	Pods                   []*v1.Pod
	PriorityClasses        []*schedulingv1.PriorityClass
	PDBs                   []*policyv1.PodDisruptionBudget
	Namespaces             []*v1.Namespace
	Services               []*v1.Service
	ReplicationControllers []*v1.ReplicationController
	ReplicaSets            []*appsv1.ReplicaSet
	StatefulSets           []*appsv1.StatefulSet
}

// PendingPods are the non-terminal pods without a node, in the snapshot's order.
func (s *Snapshot) PendingPods() []*v1.Pod {
	var out []*v1.Pod
	for _, p := range s.Pods {
		if p.Spec.NodeName == "" && !isTerminal(p) {
			out = append(out, p)
		}
	}
	return out
}

// Diff kinds.
const (
	KindPreFilter   = "prefilter"   // one side rejected the pod in PreFilter, or with another message
	KindError       = "error"       // upstream's cycle failed with an error
	KindFeasibility = "feasibility" // feasible on one side only, or the node is missing on one side
	KindFilter      = "filter"      // both infeasible, but code, plugin or reasons differ
	KindScore       = "score"       // both feasible, totals differ
	KindTopSet      = "top-set"     // the set of top-scoring nodes differs
	// KindPreemption: for a pod no node fits, DefaultPreemption differs: eligibility or the
	// message when nothing is nominated, a candidate node, its victims (runs of equal priority
	// and start time compared as sets) or PDB violations, or the final tie set.
	KindPreemption = "preemption"
)

// Diff is one mismatch.
type Diff struct {
	Snapshot, Pod, Node, Kind string
	Upstream, Engine          string
}

func (d Diff) String() string {
	node := ""
	if d.Node != "" {
		node = " node " + d.Node
	}
	return fmt.Sprintf("[%s] %s pod %s%s:\n    upstream: %s\n    engine:   %s", d.Kind, d.Snapshot, d.Pod, node, d.Upstream, d.Engine)
}

// Report sums comparisons; Add merges another into it.
type Report struct {
	Snapshots, Pods, NodeChecks, FeasibleChecks int
	Mismatches                                  map[string]int // by kind
	// Coverage: upstream's infeasible verdicts by failing plugin ("" for nodes a PreFilterResult
	// left out), and pods a PreFilter rejected.
	Infeasible        map[string]int
	PreFilterRejected int
	MismatchedPods    int
	// Sequential mode: pods bound on both sides after their comparison, pods left pending (no
	// feasible node, or no top node both sides agree on), and bound pods removed on both sides.
	Bound, LeftPending, Removed int
	// Preemption: pods no node fits whose DefaultPreemption was compared, those for which
	// upstream found candidates, candidate nodes compared, and (sequential) preemptions agreed
	// on both sides and applied (victims deleted, the pod bound to the nominated node).
	// PreemptionTies counts pods whose candidates upstream left several nodes tied after the last
	// criterion; PreemptionPDB candidates that violate a PDB.
	PreemptionCases, PreemptionNominated, PreemptionCandidates, Preempted int
	PreemptionTies, PreemptionPDB                                         int
	Diffs                                                                 []Diff // the first MaxDiffs
	MaxDiffs                                                              int
}

// NewReport keeps at most maxDiffs diffs in detail.
func NewReport(maxDiffs int) *Report {
	return &Report{Mismatches: map[string]int{}, Infeasible: map[string]int{}, MaxDiffs: maxDiffs}
}

// Total is the number of mismatches of every kind.
func (r *Report) Total() int {
	n := 0
	for _, v := range r.Mismatches {
		n += v
	}
	return n
}

func (r *Report) add(d Diff) {
	r.Mismatches[d.Kind]++
	if len(r.Diffs) < r.MaxDiffs {
		r.Diffs = append(r.Diffs, d)
	}
}

// Add merges o into r.
func (r *Report) Add(o *Report) {
	r.Snapshots += o.Snapshots
	r.Pods += o.Pods
	r.NodeChecks += o.NodeChecks
	r.FeasibleChecks += o.FeasibleChecks
	r.MismatchedPods += o.MismatchedPods
	r.Bound += o.Bound
	r.LeftPending += o.LeftPending
	r.Removed += o.Removed
	r.PreemptionCases += o.PreemptionCases
	r.PreemptionNominated += o.PreemptionNominated
	r.PreemptionCandidates += o.PreemptionCandidates
	r.Preempted += o.Preempted
	r.PreemptionTies += o.PreemptionTies
	r.PreemptionPDB += o.PreemptionPDB
	for k, v := range o.Mismatches {
		r.Mismatches[k] += v
	}
	for k, v := range o.Infeasible {
		r.Infeasible[k] += v
	}
	r.PreFilterRejected += o.PreFilterRejected
	for _, d := range o.Diffs {
		if len(r.Diffs) < r.MaxDiffs {
			r.Diffs = append(r.Diffs, d)
		}
	}
}

// Write prints the short report and the diffs kept.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "snapshots %d, pods compared %d, node verdicts %d (feasible on both sides %d)\n",
		r.Snapshots, r.Pods, r.NodeChecks, r.FeasibleChecks)
	var cover []string
	for _, k := range slices.Sorted(maps.Keys(r.Infeasible)) {
		name := k
		if name == "" {
			name = "(PreFilterResult)"
		}
		cover = append(cover, fmt.Sprintf("%s %d", name, r.Infeasible[k]))
	}
	fmt.Fprintf(w, "upstream infeasible verdicts by plugin: %s; pods rejected in PreFilter %d\n", strings.Join(cover, ", "), r.PreFilterRejected)
	if r.PreemptionCases > 0 {
		fmt.Fprintf(w, "preemption: %d pods compared, %d with candidates upstream (%d with several final ties), %d candidate nodes compared (%d violating a PDB)\n",
			r.PreemptionCases, r.PreemptionNominated, r.PreemptionTies, r.PreemptionCandidates, r.PreemptionPDB)
	}
	if r.Bound+r.LeftPending+r.Preempted > 0 {
		fmt.Fprintf(w, "sequential: %d pods bound on both sides as they came, %d bound after an agreed preemption, %d left pending, %d bound pods removed\n",
			r.Bound, r.Preempted, r.LeftPending, r.Removed)
	}
	kinds := []string{KindPreFilter, KindError, KindFeasibility, KindFilter, KindScore, KindTopSet, KindPreemption}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Mismatches[k]))
	}
	fmt.Fprintf(w, "mismatches %d in %d pods: %s\n", r.Total(), r.MismatchedPods, strings.Join(parts, ", "))
	for i, d := range r.Diffs {
		fmt.Fprintf(w, "%d. %s\n", i+1, d)
	}
	if r.Total() > len(r.Diffs) {
		fmt.Fprintf(w, "... %d more mismatches not shown\n", r.Total()-len(r.Diffs))
	}
}

// CompareOptions choose how Compare runs.
type CompareOptions struct {
	// MaxDiffs is how many mismatches the report keeps in detail.
	MaxDiffs int
	// Independent evaluates every pending pod against the initial snapshot. By default
	// (sequential) each pod, once compared, is bound on both sides to the same node before the
	// next is evaluated: the lexicographically smallest node of the top set both sides agree on
	// (none: the pod stays pending on both). Upstream's snapshot is rebuilt with the pod on that
	// node; the engine gets it as a Sync delta upserting the pod bound, or, for every other bound
	// pod, as Assume (the Reserve path). After every fifth comparison one bound pod leaves both
	// sides: Forget if the harness assumed it, else a Sync delta deleting it. So the engine's
	// incremental indexes are exercised on every path.
	Independent bool
	// NoPreemption skips DefaultPreemption: by default, for every pod upstream finds no node for
	// (PreFilter passed), upstream's preemption evaluation and the engine's Preempt
	// (list_candidates) are compared; in sequential mode a preemption both sides agree on is
	// applied: the victims leave both sides and the pod is bound to the nominated node.
	NoPreemption bool
}

// Compare loads s into upstream's framework and into the engine, evaluates every pending pod on
// both and returns the mismatches. An error means the comparison could not run (the engine
// failed a call, the framework could not be built), not that the sides differ.
func Compare(ctx context.Context, s *Snapshot, engine Engine, opts CompareOptions) (*Report, error) {
	up, err := newUpstream(ctx, s)
	if err != nil {
		return nil, err
	}
	defer up.close()
	if err := engine.Load(ctx, s); err != nil {
		return nil, fmt.Errorf("%s: loading the engine: %w", s.Name, err)
	}
	r := NewReport(opts.MaxDiffs)
	r.Snapshots = 1
	for _, pod := range s.PendingPods() {
		selector, err := up.defaultSpreadSelector(pod)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		resp, err := engine.Evaluate(ctx, pod, selector)
		if err != nil {
			return nil, fmt.Errorf("%s: engine Evaluate(%s): %w", s.Name, podKey(pod), err)
		}
		before := r.Total()
		uv, cyc := up.runCycle(ctx, pod)
		ev := engineVerdict(resp)
		comparePod(r, s.Name, podKey(pod), up.nodes, uv, ev)
		var preempted *preemptionPlan
		if !opts.NoPreemption && cyc.prefiltered && uv.Error == "" && len(topSet(uv)) == 0 {
			upv := up.preemptUpstream(ctx, pod, cyc)
			presp, err := engine.Preempt(ctx, pod, selector)
			if err != nil {
				return nil, fmt.Errorf("%s: engine Preempt(%s): %w", s.Name, podKey(pod), err)
			}
			known := map[string]*v1.Pod{}
			for _, p := range up.bound {
				known[podKey(p)] = p
			}
			epv := enginePreemptVerdict(presp, known)
			if comparePreemption(r, s.Name, podKey(pod), upv, epv) && epv.Nominated != "" {
				preempted = &preemptionPlan{node: epv.Nominated, victims: upv.Candidates[epv.Nominated].Victims}
			}
		}
		r.Pods++
		if r.Total() > before {
			r.MismatchedPods++
		}
		if opts.Independent {
			continue
		}
		if preempted != nil {
			// The preemption both sides chose: its victims leave both sides (Forget for those the
			// harness assumed), then the pod is bound to the nominated node.
			for _, victim := range preempted.victims {
				assumed := up.assumed[podKey(victim)]
				if err := engine.Remove(ctx, victim, assumed); err != nil {
					return nil, fmt.Errorf("%s: removing victim %s from the engine (forget %v): %w", s.Name, podKey(victim), assumed, err)
				}
				up.remove(victim)
			}
			assume := (r.Bound+r.Preempted)%2 == 1
			if err := engine.Bind(ctx, pod, preempted.node, assume); err != nil {
				return nil, fmt.Errorf("%s: binding %s to %s in the engine after preemption (assume %v): %w", s.Name, podKey(pod), preempted.node, assume, err)
			}
			up.bind(pod, preempted.node, assume)
			r.Preempted++
		} else if node := commonTopNode(uv, ev); node == "" {
			r.LeftPending++
		} else {
			assume := r.Bound%2 == 1
			if err := engine.Bind(ctx, pod, node, assume); err != nil {
				return nil, fmt.Errorf("%s: binding %s to %s in the engine (assume %v): %w", s.Name, podKey(pod), node, assume, err)
			}
			up.bind(pod, node, assume)
			r.Bound++
		}
		if r.Pods%removeEvery == 0 && len(up.bound) > 0 {
			// A departure: a pod the harness assumed is forgotten (Unreserve), any other is deleted.
			victim := up.bound[(r.Pods*7919)%len(up.bound)]
			assumed := up.assumed[podKey(victim)]
			if err := engine.Remove(ctx, victim, assumed); err != nil {
				return nil, fmt.Errorf("%s: removing %s from the engine (forget %v): %w", s.Name, podKey(victim), assumed, err)
			}
			up.remove(victim)
			r.Removed++
		}
	}
	return r, nil
}

// preemptionPlan is a preemption both sides agree on.
type preemptionPlan struct {
	node    string
	victims []*v1.Pod
}

// removeEvery: in sequential mode, one bound pod leaves after every removeEvery comparisons.
const removeEvery = 5

// commonTopNode is the smallest node name in both sides' top sets, or "" when they share none.
func commonTopNode(u, e *PodVerdict) string {
	if u.Error != "" || u.PreFilterPlugin != "" || u.PreFilterMessage != "" {
		return ""
	}
	enTop := topSet(e)
	for _, name := range topSet(u) { // sorted
		if slices.Contains(enTop, name) {
			return name
		}
	}
	return ""
}

func comparePod(r *Report, snap, pod string, nodes []string, u, e *PodVerdict) {
	diff := func(kind, node, up, en string) {
		r.add(Diff{Snapshot: snap, Pod: pod, Node: node, Kind: kind, Upstream: up, Engine: en})
	}
	if u.Error != "" {
		diff(KindError, "", "cycle error: "+u.Error, fmt.Sprintf("%d node verdicts", len(e.Nodes)))
		return
	}
	if u.PreFilterPlugin != "" || u.PreFilterMessage != "" {
		r.PreFilterRejected++
	}
	if u.PreFilterPlugin != "" || u.PreFilterMessage != "" || e.PreFilterPlugin != "" || e.PreFilterMessage != "" {
		if u.PreFilterPlugin != e.PreFilterPlugin || u.PreFilterMessage != e.PreFilterMessage {
			diff(KindPreFilter, "", fmt.Sprintf("prefilter rejection plugin=%q message=%q", u.PreFilterPlugin, u.PreFilterMessage),
				fmt.Sprintf("prefilter rejection plugin=%q message=%q (%d node verdicts)", e.PreFilterPlugin, e.PreFilterMessage, len(e.Nodes)))
		}
		return
	}
	for name := range e.Nodes {
		if _, ok := u.Nodes[name]; !ok {
			diff(KindFeasibility, name, "no such node", "a verdict for it")
		}
	}
	upTop, enTop := topSet(u), topSet(e)
	for _, name := range nodes {
		uv, ev := u.Nodes[name], e.Nodes[name]
		r.NodeChecks++
		if ev == nil {
			diff(KindFeasibility, name, uv.String(), "no verdict for the node")
			continue
		}
		uFeasible, eFeasible := uv.Code == "Success", ev.Code == "Success"
		if !uFeasible {
			r.Infeasible[uv.Plugin]++
		}
		switch {
		case uFeasible != eFeasible:
			diff(KindFeasibility, name, uv.String(), ev.String())
		case !uFeasible:
			if uv.Code != ev.Code || uv.Plugin != ev.Plugin || !sameReasons(uv.Reasons, ev.Reasons) {
				diff(KindFilter, name, uv.String(), ev.String())
			}
		default:
			r.FeasibleChecks++
			if uv.Score != ev.Score {
				diff(KindScore, name, uv.String(), ev.String())
			}
		}
	}
	if !slices.Equal(upTop, enTop) {
		diff(KindTopSet, "", fmt.Sprintf("top nodes %v", upTop), fmt.Sprintf("top nodes %v", enTop))
	}
}

// topSet is the sorted names of the feasible nodes with the highest total.
func topSet(v *PodVerdict) []string {
	var best int64
	var out []string
	for name, n := range v.Nodes {
		if n.Code != "Success" {
			continue
		}
		switch {
		case out == nil || n.Score > best:
			best, out = n.Score, []string{name}
		case n.Score == best:
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (n *NodeVerdict) String() string {
	if n == nil {
		return "<none>"
	}
	if n.Code == "Success" {
		var names []string
		for k := range n.Scores {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n.Scores[k]))
		}
		return fmt.Sprintf("feasible, total %d (%s)", n.Score, strings.Join(parts, " "))
	}
	return fmt.Sprintf("%s plugin=%q reasons=%q", n.Code, n.Plugin, n.Reasons)
}

// sameReasons compares reasons as multisets: upstream's NodeResourcesFit lists insufficient
// extended and hugepages resources in map order, so their order varies from run to run (the
// FitError text sorts them).
func sameReasons(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
