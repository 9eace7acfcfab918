package parity

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	resourceapi "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

// Snapshot is the cluster state both sides see. Pods with spec.nodeName are running there;
// pods without are the pending pods compared, in order (see CompareOptions for whether each is
// placed before the next one is evaluated). Namespaces go to both sides; Services and the
// controllers stay on the harness's side, which computes each pod's default spread selector from
// them (as the shim does from its listers) and sends it with Evaluate. DeviceClasses,
// ResourceSlices and ResourceClaims (DRA, resource.k8s.io/v1) go to both sides.
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
	DeviceClasses          []*resourceapi.DeviceClass
	ResourceSlices         []*resourceapi.ResourceSlice
	ResourceClaims         []*resourceapi.ResourceClaim
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
	// KindAllocation: a pod with resource claims bound in sequential mode: Reserve failed on one
	// side only, or the claims allocated differ (claim, then device for device: request, driver,
	// pool, device, adminAccess, tolerations, consumed capacity, binding conditions, a share ID
	// or none; and the node selector).
	KindAllocation = "allocation"
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
	// DRA: pending pods with resource claims compared; cycles that failed with an error on both
	// sides with the same message; (sequential) pods with claims bound, claims whose allocations
	// were compared and the devices in them; binds where Reserve failed on both sides.
	// DRAReasons counts upstream's DynamicResources filter reasons.
	DRAReasons                                          map[string]int
	ClaimPods, BothErrors                               int
	AllocationPods, AllocationClaims, AllocationDevices int
	ReserveFailedBoth                                   int
	Diffs                                               []Diff // the first MaxDiffs
	MaxDiffs                                            int
}

// NewReport keeps at most maxDiffs diffs in detail.
func NewReport(maxDiffs int) *Report {
	return &Report{Mismatches: map[string]int{}, Infeasible: map[string]int{}, DRAReasons: map[string]int{}, MaxDiffs: maxDiffs}
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
	r.ClaimPods += o.ClaimPods
	r.BothErrors += o.BothErrors
	r.AllocationPods += o.AllocationPods
	r.AllocationClaims += o.AllocationClaims
	r.AllocationDevices += o.AllocationDevices
	r.ReserveFailedBoth += o.ReserveFailedBoth
	for k, v := range o.Mismatches {
		r.Mismatches[k] += v
	}
	for k, v := range o.Infeasible {
		r.Infeasible[k] += v
	}
	for k, v := range o.DRAReasons {
		r.DRAReasons[k] += v
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
	if r.ClaimPods > 0 || r.BothErrors > 0 {
		fmt.Fprintf(w, "DRA: %d pods with resource claims compared, %d cycles failed with the same error on both sides; %d pods with claims bound, %d claim allocations compared (%d devices), %d binds refused by Reserve on both sides\n",
			r.ClaimPods, r.BothErrors, r.AllocationPods, r.AllocationClaims, r.AllocationDevices, r.ReserveFailedBoth)
		var reasons []string
		for _, k := range slices.Sorted(maps.Keys(r.DRAReasons)) {
			reasons = append(reasons, fmt.Sprintf("%q %d", k, r.DRAReasons[k]))
		}
		fmt.Fprintf(w, "DRA: upstream's DynamicResources reasons: %s\n", strings.Join(reasons, ", "))
	}
	kinds := []string{KindPreFilter, KindError, KindFeasibility, KindFilter, KindScore, KindTopSet, KindPreemption, KindAllocation}
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
	s = withClaimVersions(s)
	up, err := newUpstream(ctx, s)
	if err != nil {
		return nil, err
	}
	defer up.close()
	if err := engine.Load(ctx, s); err != nil {
		return nil, fmt.Errorf("%s: loading the engine: %w", s.Name, err)
	}
	c := newComparer(s, up, engine, opts)
	for _, pod := range s.PendingPods() {
		if err := c.comparePod(ctx, pod); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return c.r, nil
}

// comparer is one snapshot's comparison: both sides, the report, and (sequential mode) the
// claims as both sides have them now, with the resource version of the next claim write.
type comparer struct {
	s       *Snapshot
	up      *upstream
	engine  Engine
	opts    CompareOptions
	r       *Report
	claims  map[string]*resourceapi.ResourceClaim // by namespace/name
	version int64
}

func newComparer(s *Snapshot, up *upstream, engine Engine, opts CompareOptions) *comparer {
	c := &comparer{s: s, up: up, engine: engine, opts: opts, r: NewReport(opts.MaxDiffs), claims: map[string]*resourceapi.ResourceClaim{}}
	c.r.Snapshots = 1
	for _, claim := range s.ResourceClaims {
		c.claims[claimKey(claim)] = claim
		if v, err := strconv.ParseInt(claim.ResourceVersion, 10, 64); err == nil && v > c.version {
			c.version = v
		}
	}
	return c
}

func (c *comparer) diff(pod *v1.Pod, kind, node, up, en string) {
	c.r.add(Diff{Snapshot: c.s.Name, Pod: podKey(pod), Node: node, Kind: kind, Upstream: up, Engine: en})
}

// comparePod compares one pending pod and, in sequential mode, places it on both sides.
func (c *comparer) comparePod(ctx context.Context, pod *v1.Pod) error {
	up, engine, r := c.up, c.engine, c.r
	selector, err := up.defaultSpreadSelector(pod)
	if err != nil {
		return err
	}
	var ev *PodVerdict
	resp, err := engine.Evaluate(ctx, pod, selector)
	switch {
	case status.Code(err) == codes.Aborted:
		// The cycle failed with an error (upstream's Error status).
		ev = &PodVerdict{Error: status.Convert(err).Message(), Nodes: map[string]*NodeVerdict{}}
	case err != nil:
		return fmt.Errorf("engine Evaluate(%s): %w", podKey(pod), err)
	default:
		ev = engineVerdict(resp)
	}
	before := r.Total()
	uv, cyc := up.runCycle(ctx, pod)
	comparePod(r, c.s.Name, podKey(pod), up.nodes, uv, ev)
	var preempted *preemptionPlan
	if !c.opts.NoPreemption && cyc.prefiltered && uv.Error == "" && ev.Error == "" && len(topSet(uv)) == 0 {
		upv := up.preemptUpstream(ctx, pod, cyc)
		presp, err := engine.Preempt(ctx, pod, selector)
		var epv *PreemptVerdict
		switch {
		case status.Code(err) == codes.Aborted:
			epv = &PreemptVerdict{Error: status.Convert(err).Message()} // PostFilter's error
		case err != nil:
			return fmt.Errorf("engine Preempt(%s): %w", podKey(pod), err)
		default:
			known := map[string]*v1.Pod{}
			for _, p := range up.bound {
				known[podKey(p)] = p
			}
			epv = enginePreemptVerdict(presp, known)
		}
		if comparePreemption(r, c.s.Name, podKey(pod), upv, epv) && epv.Nominated != "" {
			preempted = &preemptionPlan{node: epv.Nominated, victims: upv.Candidates[epv.Nominated].Victims}
		}
	}
	r.Pods++
	if len(pod.Spec.ResourceClaims) > 0 {
		r.ClaimPods++
	}
	defer func() {
		if r.Total() > before {
			r.MismatchedPods++
		}
	}()
	if c.opts.Independent {
		return nil
	}
	if preempted != nil {
		// The preemption both sides chose: its victims leave both sides (Forget for those the
		// harness assumed), then the pod is bound to the nominated node.
		for _, victim := range preempted.victims {
			if err := c.remove(ctx, victim); err != nil {
				return fmt.Errorf("removing victim %s: %w", podKey(victim), err)
			}
		}
		assume := (r.Bound+r.Preempted)%2 == 1
		placed, err := c.place(ctx, pod, preempted.node, assume, nil)
		if err != nil {
			return fmt.Errorf("binding %s to %s after preemption (assume %v): %w", podKey(pod), preempted.node, assume, err)
		}
		if placed {
			r.Preempted++
		} else {
			r.LeftPending++
		}
	} else if node := commonTopNode(uv, ev); node == "" {
		r.LeftPending++
	} else {
		assume := r.Bound%2 == 1
		placed, err := c.place(ctx, pod, node, assume, cyc)
		if err != nil {
			return fmt.Errorf("binding %s to %s (assume %v): %w", podKey(pod), node, assume, err)
		}
		if placed {
			r.Bound++
		} else {
			r.LeftPending++
		}
	}
	if r.Pods%removeEvery == 0 && len(up.bound) > 0 {
		// A departure: a pod the harness assumed is forgotten (Unreserve), any other is deleted.
		victim := up.bound[(r.Pods*7919)%len(up.bound)]
		if err := c.remove(ctx, victim); err != nil {
			return fmt.Errorf("removing %s: %w", podKey(victim), err)
		}
		r.Removed++
	}
	return nil
}

// place binds pod to node on both sides. A pod without resource claims goes as before: a Sync
// delta upserting it bound (assume false) or Assume. A pod with claims goes through Reserve on
// both sides (upstream's DynamicResources Reserve, the engine's Assume), whose allocations are
// compared; then each of its claims is written on both sides as PreBind writes it (allocation,
// finalizer, the pod in reservedFor), and with assume false the engine also gets the bound pod
// (the informer's news, confirming the assumed pod). The allocation written is upstream's, so a
// mismatch does not carry over. When only one side's Reserve succeeds, that is a mismatch and
// the pod stays pending on both (placed false).
func (c *comparer) place(ctx context.Context, pod *v1.Pod, node string, assume bool, cyc *cycleResult) (bool, error) {
	if len(pod.Spec.ResourceClaims) == 0 {
		if err := c.engine.Bind(ctx, pod, node, assume); err != nil {
			return false, err
		}
		c.up.bind(pod, node, assume)
		return true, nil
	}
	upAllocs, upErr := c.up.reserve(ctx, pod, node, cyc)
	enAllocs, enErr := c.engine.Assume(ctx, pod, node)
	if enErr != nil && status.Code(enErr) != codes.Aborted && status.Code(enErr) != codes.FailedPrecondition {
		return false, fmt.Errorf("engine Assume: %w", enErr)
	}
	switch {
	case upErr != nil && enErr != nil:
		c.r.ReserveFailedBoth++
		return false, nil
	case upErr != nil || enErr != nil:
		c.diff(pod, KindAllocation, node, errorOrAllocations(upErr, upAllocs), errorOrEngineAllocations(enErr, enAllocs))
		if enErr == nil {
			if err := c.engine.Remove(ctx, pod, true); err != nil {
				return false, fmt.Errorf("forgetting the engine's assumed pod: %w", err)
			}
		} else {
			c.up.dra.dropPendingAllocations(upAllocs)
		}
		return false, nil
	}
	c.compareAllocations(pod, node, upAllocs, enAllocs)
	byKey := map[string]*resourceapi.AllocationResult{}
	for _, a := range upAllocs {
		byKey[a.Key] = a.Allocation
	}
	now := time.Now()
	written := map[string]bool{}
	for _, key := range podClaimKeys(pod) {
		cur := c.claims[key]
		if cur == nil || written[key] {
			continue
		}
		written[key] = true
		if err := c.writeClaim(ctx, boundClaim(cur, pod, byKey[key], now, c.nextVersion())); err != nil {
			return false, err
		}
	}
	c.up.bind(pod, node, assume)
	if !assume {
		if err := c.engine.Bind(ctx, pod, node, false); err != nil {
			return false, err
		}
	}
	return true, nil
}

// remove takes a bound pod away from both sides (Forget if the harness assumed it, else a
// deletion), then releases its claims on both sides (releasedClaim).
func (c *comparer) remove(ctx context.Context, pod *v1.Pod) error {
	assumed := c.up.assumed[podKey(pod)]
	if err := c.engine.Remove(ctx, pod, assumed); err != nil {
		return fmt.Errorf("engine (forget %v): %w", assumed, err)
	}
	c.up.remove(pod)
	for _, key := range podClaimKeys(pod) {
		cur := c.claims[key]
		if cur == nil {
			continue
		}
		if released := releasedClaim(cur, pod, c.nextVersion()); released != nil {
			if err := c.writeClaim(ctx, released); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeClaim stores a new version of a claim on both sides.
func (c *comparer) writeClaim(ctx context.Context, claim *resourceapi.ResourceClaim) error {
	c.up.dra.write(claim)
	if err := c.engine.UpsertClaim(ctx, claim); err != nil {
		return fmt.Errorf("engine: claim %s: %w", claimKey(claim), err)
	}
	c.claims[claimKey(claim)] = claim
	return nil
}

func (c *comparer) nextVersion() string {
	c.version++
	return strconv.FormatInt(c.version, 10)
}

// withClaimVersions returns s with a resource version on every claim that has none (or a
// non-numeric one), which the assume cache needs; s itself is not changed.
func withClaimVersions(s *Snapshot) *Snapshot {
	needed := false
	for _, claim := range s.ResourceClaims {
		if _, err := strconv.ParseInt(claim.ResourceVersion, 10, 64); err != nil {
			needed = true
		}
	}
	if !needed {
		return s
	}
	out := *s
	out.ResourceClaims = make([]*resourceapi.ResourceClaim, len(s.ResourceClaims))
	for i, claim := range s.ResourceClaims {
		if _, err := strconv.ParseInt(claim.ResourceVersion, 10, 64); err != nil {
			claim = claim.DeepCopy()
			claim.ResourceVersion = "1"
		}
		out.ResourceClaims[i] = claim
	}
	return &out
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
	if u.Error != "" || e.Error != "" {
		switch {
		case u.Error == "":
			diff(KindError, "", fmt.Sprintf("no error (%d node verdicts, prefilter plugin=%q)", len(u.Nodes), u.PreFilterPlugin), "cycle error: "+e.Error)
		case e.Error == "":
			diff(KindError, "", "cycle error: "+u.Error, fmt.Sprintf("%d node verdicts (prefilter plugin=%q)", len(e.Nodes), e.PreFilterPlugin))
		case cycleErrorMessage(u.Error) != e.Error:
			diff(KindError, "", "cycle error: "+u.Error, "cycle error: "+e.Error)
		default:
			r.BothErrors++
		}
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
			if uv.Plugin == "DynamicResources" {
				for _, reason := range uv.Reasons {
					r.DRAReasons[reason]++
				}
			}
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
