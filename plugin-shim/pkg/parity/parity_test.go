package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// mirrorEngine answers Evaluate with upstream's own verdicts (optionally altered), so the
// comparison logic is tested without the C++ engine.
type mirrorEngine struct {
	up           *upstream
	alter        func(*sextantv1.EvaluateResponse)
	alterPreempt func(*sextantv1.PreemptResponse)
	// alterAllocations changes what Assume returns.
	alterAllocations func([]*sextantv1.ClaimAllocation)
}

func (m *mirrorEngine) Load(ctx context.Context, s *Snapshot) error {
	m.close()
	var err error
	m.up, err = newUpstream(ctx, s)
	return err
}

func (m *mirrorEngine) close() {
	if m.up != nil {
		m.up.close()
		m.up = nil
	}
}

func (m *mirrorEngine) Bind(_ context.Context, pod *v1.Pod, node string, assume bool) error {
	if slices.ContainsFunc(m.up.bound, func(p *v1.Pod) bool { return podKey(p) == podKey(pod) && p.Spec.NodeName == node }) {
		delete(m.up.assumed, podKey(pod)) // assumed by Assume before: the binding confirms it
		return nil
	}
	m.up.bind(pod, node, assume)
	return nil
}

// Assume runs upstream's Reserve on the mirror's own framework (after PreFilter and Filter on
// node alone).
func (m *mirrorEngine) Assume(ctx context.Context, pod *v1.Pod, node string) ([]*sextantv1.ClaimAllocation, error) {
	allocs, err := m.up.reserve(ctx, pod, node, nil)
	if err != nil {
		return nil, status.Error(codes.Aborted, err.Error())
	}
	m.up.bind(pod, node, true)
	var out []*sextantv1.ClaimAllocation
	for _, a := range allocs {
		ns, name := splitKey(a.Key)
		claim := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: a.UID},
			Status: resourceapi.ResourceClaimStatus{Allocation: a.Allocation}}
		out = append(out, &sextantv1.ClaimAllocation{Namespace: ns, Name: name, Uid: string(a.UID),
			Allocation: engineclient.ResourceClaimToProto(claim).Allocation})
	}
	if m.alterAllocations != nil {
		m.alterAllocations(out)
	}
	return out, nil
}

func (m *mirrorEngine) UpsertClaim(_ context.Context, claim *resourceapi.ResourceClaim) error {
	m.up.dra.write(claim)
	return nil
}

func (m *mirrorEngine) Remove(_ context.Context, pod *v1.Pod, _ bool) error {
	m.up.remove(pod)
	return nil
}

func (m *mirrorEngine) Evaluate(ctx context.Context, pod *v1.Pod, _ *sextantv1.LabelSelector) (*sextantv1.EvaluateResponse, error) {
	v := m.up.evaluate(ctx, pod)
	if v.Error != "" {
		return nil, status.Error(codes.Aborted, cycleErrorMessage(v.Error))
	}
	resp := &sextantv1.EvaluateResponse{PrefilterPlugin: v.PreFilterPlugin, PrefilterMessage: v.PreFilterMessage}
	if v.PreFilterPlugin != "" || v.PreFilterMessage != "" {
		return resp, nil
	}
	ids := map[string]uint32{}
	for _, name := range m.up.nodes {
		nv := v.Nodes[name]
		nr := &sextantv1.NodeResult{Node: name, Plugin: nv.Plugin, Score: nv.Score}
		switch nv.Code {
		case "Success":
			nr.Code = sextantv1.FilterCode_SUCCESS
		case "Unschedulable":
			nr.Code = sextantv1.FilterCode_UNSCHEDULABLE
		default:
			nr.Code = sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE
		}
		for _, r := range nv.Reasons {
			id, ok := ids[r]
			if !ok {
				id = uint32(len(resp.Reasons))
				ids[r] = id
				resp.Reasons = append(resp.Reasons, r)
			}
			nr.ReasonIds = append(nr.ReasonIds, id)
		}
		resp.Nodes = append(resp.Nodes, nr)
	}
	if m.alter != nil {
		m.alter(resp)
	}
	return resp, nil
}

// Preempt answers with upstream's own preemption (the first final tie nominated).
func (m *mirrorEngine) Preempt(ctx context.Context, pod *v1.Pod, _ *sextantv1.LabelSelector) (*sextantv1.PreemptResponse, error) {
	_, cyc := m.up.runCycle(ctx, pod)
	v := m.up.preemptUpstream(ctx, pod, cyc)
	if len(v.Errors) > 0 {
		return nil, status.Error(codes.Aborted, v.Errors[0])
	}
	if v.Error != "" {
		return nil, fmt.Errorf("upstream: %s", v.Error)
	}
	resp := &sextantv1.PreemptResponse{Message: v.Message, FinalTies: v.Ties, Candidates: int64(len(v.Candidates))}
	victims := func(pods []*v1.Pod) []*sextantv1.Victim {
		var out []*sextantv1.Victim
		for _, p := range pods {
			out = append(out, &sextantv1.Victim{Namespace: p.Namespace, Name: p.Name, Uid: string(p.UID), Priority: ptr.Deref(p.Spec.Priority, 0)})
		}
		return out
	}
	for _, name := range m.up.nodes {
		if c := v.Candidates[name]; c != nil {
			resp.AllCandidates = append(resp.AllCandidates, &sextantv1.PreemptionCandidate{Node: name, Victims: victims(c.Victims), PdbViolations: c.PDBViolations})
		}
	}
	if len(v.Ties) > 0 {
		c := v.Candidates[v.Ties[0]]
		resp.NominatedNode, resp.Victims, resp.PdbViolations = v.Ties[0], victims(c.Victims), c.PDBViolations
		resp.Message = fmt.Sprintf("found a potential placement for pod on node %s, preempting %d victims", v.Ties[0], len(c.Victims))
	}
	if m.alterPreempt != nil {
		m.alterPreempt(resp)
	}
	return resp, nil
}

func TestCompareAgainstItself(t *testing.T) {
	ctx := context.Background()
	total := NewReport(5)
	for seed := uint64(1); seed <= 20; seed++ {
		for _, independent := range []bool{false, true} {
			m := &mirrorEngine{}
			r, err := Compare(ctx, Generate(seed, DefaultGenerateOptions), m, CompareOptions{MaxDiffs: 5, Independent: independent})
			m.close()
			if err != nil {
				t.Fatal(err)
			}
			total.Add(r)
		}
	}
	var buf bytes.Buffer
	total.Write(&buf)
	t.Log(buf.String())
	if total.Total() != 0 {
		t.Fatalf("upstream differs from itself:\n%s", buf.String())
	}
	if total.PreemptionNominated == 0 || total.PreemptionTies == 0 || total.PreemptionPDB == 0 || total.Preempted == 0 {
		t.Errorf("generated snapshots exercise too little preemption: %d pods with candidates, %d with several ties, %d PDB-violating candidates, %d preempted",
			total.PreemptionNominated, total.PreemptionTies, total.PreemptionPDB, total.Preempted)
	}
	if total.ClaimPods == 0 || total.AllocationDevices == 0 || total.BothErrors == 0 {
		t.Errorf("generated snapshots exercise too little DRA: %d pods with claims, %d devices allocated, %d errors on both sides",
			total.ClaimPods, total.AllocationDevices, total.BothErrors)
	}
	if total.Pods < 200 || total.FeasibleChecks == 0 || total.NodeChecks == total.FeasibleChecks {
		t.Errorf("generated snapshots too easy: %d pods, %d node verdicts, %d feasible", total.Pods, total.NodeChecks, total.FeasibleChecks)
	}
}

func TestCompareFindsDifferences(t *testing.T) {
	ctx := context.Background()
	s := Generate(7, DefaultGenerateOptions)
	alter := func(resp *sextantv1.EvaluateResponse) {
		for _, n := range resp.Nodes {
			switch n.Code {
			case sextantv1.FilterCode_SUCCESS:
				n.Score++
			case sextantv1.FilterCode_UNSCHEDULABLE:
				n.Code = sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE
			}
		}
		if len(resp.Nodes) > 0 {
			resp.Nodes = resp.Nodes[1:] // a missing node
		}
	}
	m := &mirrorEngine{alter: alter}
	defer m.close()
	r, err := Compare(ctx, s, m, CompareOptions{MaxDiffs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mismatches[KindScore] == 0 || r.Mismatches[KindFeasibility] == 0 || len(r.Diffs) != 3 {
		var buf bytes.Buffer
		r.Write(&buf)
		t.Errorf("altered engine not caught:\n%s", buf.String())
	}
}

func TestUpstreamVerdicts(t *testing.T) {
	rl := func(cpu, mem string) v1.ResourceList {
		return v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem), v1.ResourcePods: resource.MustParse("110")}
	}
	node := func(name string, taints ...v1.Taint) *v1.Node {
		return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
			Spec: v1.NodeSpec{Taints: taints}, Status: v1.NodeStatus{Allocatable: rl("4", "8Gi"), Capacity: rl("4", "8Gi")}}
	}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "d", Name: "p"}, Spec: v1.PodSpec{Containers: []v1.Container{
		{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("3")}}}}}}
	busy := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "d", Name: "busy"}, Spec: v1.PodSpec{NodeName: "a", Containers: []v1.Container{
		{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2")}}}}},
		Status: v1.PodStatus{Phase: v1.PodRunning}}
	s := &Snapshot{Nodes: []*v1.Node{node("a"), node("b", v1.Taint{Key: "k", Effect: v1.TaintEffectNoSchedule}), node("c")}, Pods: []*v1.Pod{busy, pod}}
	up, err := newUpstream(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer up.close()
	v := up.evaluate(context.Background(), pod)
	got := map[string]string{}
	for name, nv := range v.Nodes {
		got[name] = nv.String()
	}
	want := map[string]string{
		"a": `Unschedulable plugin="NodeResourcesFit" reasons=["Insufficient cpu"]`,
		"b": `UnschedulableAndUnresolvable plugin="TaintToleration" reasons=["node(s) had untolerated taint(s)"]`,
		"c": "feasible, total ",
	}
	for name, w := range want {
		if !strings.HasPrefix(got[name], w) {
			t.Errorf("node %s: %s, want prefix %s", name, got[name], w)
		}
	}
}

func TestListRoundTrip(t *testing.T) {
	s := Generate(3, DefaultGenerateOptions)
	var buf bytes.Buffer
	if err := WriteList(&buf, s); err != nil {
		t.Fatal(err)
	}
	back, skipped, err := LoadList(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 0 || len(back.Nodes) != len(s.Nodes) || len(back.Pods) != len(s.Pods) || len(back.PriorityClasses) != len(s.PriorityClasses) {
		t.Fatalf("round trip: %d nodes %d pods %d pcs (%d skipped), want %d %d %d", len(back.Nodes), len(back.Pods), len(back.PriorityClasses), skipped, len(s.Nodes), len(s.Pods), len(s.PriorityClasses))
	}
	counts := func(s *Snapshot) []int {
		return []int{len(s.Namespaces), len(s.Services), len(s.ReplicationControllers), len(s.ReplicaSets), len(s.StatefulSets)}
	}
	if diff := cmp.Diff(counts(s), counts(back)); diff != "" || len(s.Namespaces) == 0 {
		t.Errorf("round trip of namespaces, services, RCs, RSs, SSs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(s.ReplicaSets[0].Spec, back.ReplicaSets[0].Spec, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replica set spec (-want +got):\n%s", diff)
	}
	for i := range s.Pods {
		back.Pods[i].TypeMeta = s.Pods[i].TypeMeta
		if diff := cmp.Diff(s.Pods[i].Spec, back.Pods[i].Spec, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("pod %s spec (-want +got):\n%s", s.Pods[i].Name, diff)
		}
	}
	// Typed lists without per-item kinds, and unknown kinds.
	typed := []byte(`{"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"n1"}}]}`)
	if back, _, err := LoadList(typed); err != nil || len(back.Nodes) != 1 || back.Nodes[0].Name != "n1" {
		t.Errorf("NodeList: %v %+v", err, back)
	}
	mixed := []byte(`{"kind":"List","apiVersion":"v1","items":[{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}},{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"name":"w"}}]}`)
	if back, skipped, err := LoadList(mixed); err != nil || skipped != 2 || len(back.Nodes) != 0 {
		t.Errorf("mixed list: %v skipped %d", err, skipped)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteList(&a, Generate(11, DefaultGenerateOptions)); err != nil {
		t.Fatal(err)
	}
	if err := WriteList(&b, Generate(11, DefaultGenerateOptions)); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("the same seed gave different snapshots")
	}
}

// TestParitySweep compares upstream and the real engine on SEXTANT_PARITY_SEEDS generated
// snapshots (default 200, from SEXTANT_PARITY_FIRST_SEED, default 1). With SEXTANT_PARITY_DUMP
// set to a directory, each mismatching seed is written there as a List for `sextant-parity`; with
// SEXTANT_PARITY_NO_POD_LEVEL set, no pod has spec.resources; with SEXTANT_PARITY_NO_INTER_POD
// set, no pod has pod affinity or spread constraints; with SEXTANT_PARITY_NO_DRA set, there are
// no DRA objects or claims; with SEXTANT_PARITY_INDEPENDENT set,
// every pending pod is evaluated against the initial snapshot (default: sequential, each pod
// bound on both sides before the next).
func TestParitySweep(t *testing.T) {
	if os.Getenv("SEXTANT_ENGINE_BINARY") == "" {
		t.Skip("SEXTANT_ENGINE_BINARY is not set; set it to a built `sextant` binary (e.g. ../build/sextant) to compare the engine with upstream on generated snapshots")
	}
	address := enginetest.StartRealEngine(t, parityEngineArgs...)
	engine, err := DialEngine(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	seeds, first := envInt(t, "SEXTANT_PARITY_SEEDS", 200), envInt(t, "SEXTANT_PARITY_FIRST_SEED", 1)
	dump := os.Getenv("SEXTANT_PARITY_DUMP")
	opts := DefaultGenerateOptions
	opts.NoPodLevelResources = os.Getenv("SEXTANT_PARITY_NO_POD_LEVEL") != ""
	opts.NoInterPod = os.Getenv("SEXTANT_PARITY_NO_INTER_POD") != ""
	opts.DRA = os.Getenv("SEXTANT_PARITY_NO_DRA") == ""
	independent := os.Getenv("SEXTANT_PARITY_INDEPENDENT") != ""
	noPreemption := os.Getenv("SEXTANT_PARITY_NO_PREEMPTION") != ""
	total := NewReport(20)
	var badSeeds []uint64
	for seed := uint64(first); seed < uint64(first+seeds); seed++ {
		s := Generate(seed, opts)
		r, err := Compare(context.Background(), s, engine, CompareOptions{MaxDiffs: 20, Independent: independent, NoPreemption: noPreemption})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if r.Total() > 0 {
			badSeeds = append(badSeeds, seed)
			if dump != "" {
				var buf bytes.Buffer
				if err := WriteList(&buf, s); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dump, fmt.Sprintf("seed-%d.json", seed)), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		total.Add(r)
	}
	var buf bytes.Buffer
	total.Write(&buf)
	if total.Total() > 0 {
		t.Fatalf("seeds %d..%d: engine differs from upstream (mismatching seeds %v):\n%s", first, first+seeds-1, badSeeds, buf.String())
	}
	t.Logf("seeds %d..%d:\n%s", first, first+seeds-1, buf.String())
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, v)
	}
	return n
}

// TestUpstreamFitScoreIgnoresPodLevelResources pins the upstream v1.37.2 behaviour the first
// sweep found the engine differing from: NodeResourcesFit's scorer is built without the
// PodLevelResources gate (fit.go nodeResourceStrategyTypeMap), so its score takes the incoming
// pod's request from the containers (with the 100m / 200Mi defaults for missing requests) and
// ignores spec.resources, while its filter and BalancedAllocation honour spec.resources.
func TestUpstreamFitScoreIgnoresPodLevelResources(t *testing.T) {
	rl := func(cpu, mem string) v1.ResourceList {
		return v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem), v1.ResourcePods: resource.MustParse("110")}
	}
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: v1.NodeStatus{Allocatable: rl("4", "8Gi"), Capacity: rl("4", "8Gi")}}
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "d", Name: "p"}, Spec: v1.PodSpec{
		Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}}}},
		Resources:  &v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("2"), v1.ResourceMemory: resource.MustParse("2Gi")}},
	}}
	up, err := newUpstream(context.Background(), &Snapshot{Nodes: []*v1.Node{n}, Pods: []*v1.Pod{pod}})
	if err != nil {
		t.Fatal(err)
	}
	defer up.close()
	v := up.evaluate(context.Background(), pod).Nodes["n1"]
	// Containers: cpu 1/4 -> 75, memory 1Gi/8Gi -> 87.5: 81. Pod level would give (50+75)/2 = 62.
	if got := v.Scores["NodeResourcesFit"]; got != 81 {
		t.Errorf("NodeResourcesFit score = %d, want 81 (container requests, pod-level ignored): %s", got, v)
	}
}

// recordingEngine is a mirrorEngine that records what the harness sends it.
type recordingEngine struct {
	mirrorEngine
	selectors map[string]*sextantv1.LabelSelector // by pod key
	binds     []string                            // "pod->node assume"
}

func (r *recordingEngine) Evaluate(ctx context.Context, pod *v1.Pod, sel *sextantv1.LabelSelector) (*sextantv1.EvaluateResponse, error) {
	if r.selectors == nil {
		r.selectors = map[string]*sextantv1.LabelSelector{}
	}
	r.selectors[podKey(pod)] = sel
	return r.mirrorEngine.Evaluate(ctx, pod, sel)
}

func (r *recordingEngine) Remove(ctx context.Context, pod *v1.Pod, forget bool) error {
	r.binds = append(r.binds, fmt.Sprintf("remove %s forget %v", pod.Name, forget))
	return r.mirrorEngine.Remove(ctx, pod, forget)
}

func (r *recordingEngine) Bind(ctx context.Context, pod *v1.Pod, node string, assume bool) error {
	r.binds = append(r.binds, fmt.Sprintf("%s->%s %v", pod.Name, node, assume))
	return r.mirrorEngine.Bind(ctx, pod, node, assume)
}

func smallNode(name, zone string) *v1.Node {
	rl := v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("8Gi"), v1.ResourcePods: resource.MustParse("110")}
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}},
		Status: v1.NodeStatus{Allocatable: rl, Capacity: rl}}
}

func smallPod(ns, name string, labels map[string]string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: labels},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")}}}}}}
}

// TestSequentialBindsOnBothSides: replicas with required host anti-affinity land on distinct
// nodes one by one (the smallest top node each time), the fourth finds no node and stays pending,
// and binds alternate between a Sync delta and Assume.
func TestSequentialBindsOnBothSides(t *testing.T) {
	s := &Snapshot{Name: "replicas", Nodes: []*v1.Node{smallNode("a", "z1"), smallNode("b", "z1"), smallNode("c", "z2")}}
	for i := range 4 {
		p := smallPod("prod", fmt.Sprintf("r%d", i), map[string]string{"app": "r"})
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "r"}}, TopologyKey: "kubernetes.io/hostname"}}}}
		s.Pods = append(s.Pods, p)
	}
	e := &recordingEngine{}
	defer e.close()
	r, err := Compare(context.Background(), s, e, CompareOptions{MaxDiffs: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total() != 0 || r.Bound != 3 || r.LeftPending != 1 {
		var buf bytes.Buffer
		r.Write(&buf)
		t.Errorf("bound %d, left pending %d:\n%s", r.Bound, r.LeftPending, buf.String())
	}
	want := []string{"r0->a false", "r1->b true", "r2->c false"}
	if diff := cmp.Diff(want, e.binds); diff != "" {
		t.Errorf("binds (-want +got):\n%s", diff)
	}
	// Independent mode: every replica sees the empty cluster.
	e2 := &recordingEngine{}
	defer e2.close()
	r, err = Compare(context.Background(), s, e2, CompareOptions{MaxDiffs: 5, Independent: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Bound != 0 || len(e2.binds) != 0 || r.FeasibleChecks != 12 {
		t.Errorf("independent: bound %d, binds %v, feasible %d; want 0, none, 12", r.Bound, e2.binds, r.FeasibleChecks)
	}
}

// TestSequentialRemovals: after every fifth comparison a bound pod leaves both sides (Forget for
// one the harness assumed), and the next replica takes its node.
func TestSequentialRemovals(t *testing.T) {
	s := &Snapshot{Name: "departures", Nodes: []*v1.Node{smallNode("a", "z1"), smallNode("b", "z1"), smallNode("c", "z2")}}
	for i := range 6 {
		p := smallPod("prod", fmt.Sprintf("r%d", i), map[string]string{"app": "r"})
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "r"}}, TopologyKey: "kubernetes.io/hostname"}}}}
		s.Pods = append(s.Pods, p)
	}
	e := &recordingEngine{}
	defer e.close()
	r, err := Compare(context.Background(), s, e, CompareOptions{MaxDiffs: 5})
	if err != nil {
		t.Fatal(err)
	}
	// After r4 (the fifth), bound[5*7919 % 3] = r1 leaves; r5 takes node b.
	want := []string{"r0->a false", "r1->b true", "r2->c false", "remove r1 forget true", "r5->b true"}
	if diff := cmp.Diff(want, e.binds); diff != "" || r.Removed != 1 || r.Total() != 0 {
		t.Errorf("removed %d, %d mismatches; binds (-want +got):\n%s", r.Removed, r.Total(), diff)
	}
}

// TestDefaultSpreadSelectorSent: the harness computes each pod's default spread selector from the
// snapshot's Services and controllers, as the shim does, and upstream's system default
// constraints use the same objects.
func TestDefaultSpreadSelectorSent(t *testing.T) {
	s := &Snapshot{Name: "defaults", Nodes: []*v1.Node{smallNode("a", "z1"), smallNode("b", "z2")},
		Namespaces: []*v1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"team": "a"}}}},
		Services:   []*v1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}}},
		ReplicaSets: []*appsv1.ReplicaSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1"}, Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "hash", Operator: metav1.LabelSelectorOpIn, Values: []string{"1"}}}}}}},
	}
	running := smallPod("ns", "running", map[string]string{"app": "web", "hash": "1"})
	running.Spec.NodeName = "a"
	owned := smallPod("ns", "owned", map[string]string{"app": "web", "hash": "1"})
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", Controller: ptr.To(true)}}
	own := smallPod("ns", "own", map[string]string{"app": "web"})
	own.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone",
		WhenUnsatisfiable: v1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	s.Pods = []*v1.Pod{running, owned, own, smallPod("ns", "lonely", map[string]string{"app": "db"})}
	e := &recordingEngine{}
	defer e.close()
	r, err := Compare(context.Background(), s, e, CompareOptions{MaxDiffs: 5, Independent: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*sextantv1.LabelSelector{
		"ns/owned": {MatchLabels: map[string]string{"app": "web"},
			MatchExpressions: []*sextantv1.SelectorRequirement{{Key: "hash", Operator: "In", Values: []string{"1"}}}},
		"ns/own":    nil,
		"ns/lonely": nil,
	}
	if diff := cmp.Diff(want, e.selectors, protocmp.Transform()); diff != "" {
		t.Errorf("default spread selectors (-want +got):\n%s", diff)
	}
	// Upstream spread the owned pod away from the running one: node b scores higher.
	up, err := newUpstream(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer up.close()
	v := up.evaluate(context.Background(), owned)
	if a, b := v.Nodes["a"].Scores["PodTopologySpread"], v.Nodes["b"].Scores["PodTopologySpread"]; !(b > a) {
		t.Errorf("PodTopologySpread scores a=%d b=%d: the default constraints were not applied", a, b)
	}
	if r.Total() != 0 {
		t.Errorf("%d mismatches against itself", r.Total())
	}
}

// TestGeneratorCoverage checks that the generated snapshots hold every inter-pod feature the
// sweep is meant to exercise.
func TestGeneratorCoverage(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= 30; seed++ {
		s := Generate(seed, DefaultGenerateOptions)
		seen["namespaces"] += len(s.Namespaces)
		seen["services"] += len(s.Services)
		seen["replicasets"] += len(s.ReplicaSets)
		seen["statefulsets"] += len(s.StatefulSets)
		seen["replicationcontrollers"] += len(s.ReplicationControllers)
		for _, n := range s.Nodes {
			if _, ok := n.Labels["topology.kubernetes.io/zone"]; !ok {
				seen["node without zone"]++
			}
		}
		for _, p := range s.Pods {
			pending := p.Spec.NodeName == ""
			role := "running "
			if pending {
				role = "pending "
			}
			terms := func(kind string, req []v1.PodAffinityTerm, pref []v1.WeightedPodAffinityTerm) {
				all := append([]v1.PodAffinityTerm(nil), req...)
				if len(req) > 0 {
					seen[role+"required "+kind]++
				}
				for _, w := range pref {
					all = append(all, w.PodAffinityTerm)
					seen[role+"preferred "+kind]++
				}
				for _, term := range all {
					seen["topologyKey "+term.TopologyKey]++
					switch {
					case term.NamespaceSelector == nil:
						seen["namespaceSelector nil"]++
					case len(term.NamespaceSelector.MatchLabels)+len(term.NamespaceSelector.MatchExpressions) == 0:
						seen["namespaceSelector {}"]++
					default:
						seen["namespaceSelector labels"]++
					}
					if len(term.Namespaces) > 0 {
						seen["namespaces list"]++
					}
					if term.LabelSelector == nil {
						seen["labelSelector nil"]++
					} else {
						for _, r := range term.LabelSelector.MatchExpressions {
							seen["labelSelector "+string(r.Operator)]++
						}
						if len(term.LabelSelector.MatchLabels) > 0 {
							seen["labelSelector matchLabels"]++
						}
					}
					if len(term.MatchLabelKeys) > 0 {
						seen["matchLabelKeys"]++
					}
					if len(term.MismatchLabelKeys) > 0 {
						seen["mismatchLabelKeys"]++
					}
				}
			}
			if a := p.Spec.Affinity; a != nil {
				if pa := a.PodAffinity; pa != nil {
					terms("affinity", pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)
				}
				if pa := a.PodAntiAffinity; pa != nil {
					terms("anti-affinity", pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution)
				}
			}
			for _, c := range p.Spec.TopologySpreadConstraints {
				seen["spread "+string(c.WhenUnsatisfiable)]++
				seen["spread key "+c.TopologyKey]++
				seen[fmt.Sprintf("spread maxSkew %d", c.MaxSkew)]++
				if c.MinDomains != nil {
					seen["spread minDomains"]++
				}
				seen["spread nodeAffinityPolicy "+string(ptr.Deref(c.NodeAffinityPolicy, "unset"))]++
				seen["spread nodeTaintsPolicy "+string(ptr.Deref(c.NodeTaintsPolicy, "unset"))]++
				if len(c.MatchLabelKeys) > 0 {
					seen["spread matchLabelKeys"]++
				}
			}
			if strings.HasPrefix(p.Name, "solo-") {
				seen["first pod of a group"]++
			}
		}
	}
	for _, want := range []string{
		"namespaces", "services", "replicasets", "statefulsets", "replicationcontrollers", "node without zone",
		"running required affinity", "running required anti-affinity", "running preferred affinity", "running preferred anti-affinity",
		"pending required affinity", "pending required anti-affinity", "pending preferred affinity", "pending preferred anti-affinity",
		"topologyKey kubernetes.io/hostname", "topologyKey topology.kubernetes.io/zone", "topologyKey " + labelRegion,
		"topologyKey " + labelRack, "topologyKey " + labelMissing,
		"namespaceSelector nil", "namespaceSelector {}", "namespaceSelector labels", "namespaces list",
		"labelSelector nil", "labelSelector In", "labelSelector NotIn", "labelSelector Exists", "labelSelector DoesNotExist",
		"labelSelector matchLabels", "matchLabelKeys", "mismatchLabelKeys",
		"spread DoNotSchedule", "spread ScheduleAnyway", "spread minDomains", "spread maxSkew 1", "spread maxSkew 2", "spread maxSkew 3",
		"spread key kubernetes.io/hostname", "spread key topology.kubernetes.io/zone", "spread key " + labelRack, "spread key " + labelMissing,
		"spread nodeAffinityPolicy Honor", "spread nodeAffinityPolicy Ignore", "spread nodeAffinityPolicy unset",
		"spread nodeTaintsPolicy Honor", "spread nodeTaintsPolicy Ignore", "spread nodeTaintsPolicy unset",
		"spread matchLabelKeys", "first pod of a group",
	} {
		if seen[want] == 0 {
			t.Errorf("30 seeds generate no %q", want)
		}
	}
}

// TestPreemptionCoverage checks that generated snapshots exercise preemption: candidates with
// PDB violations, several final ties, victims without a start time, pods not eligible
// (preemptionPolicy Never, a preemption victim still terminating on the nominated node), and
// nominated pods that change a filter verdict.
func TestPreemptionCoverage(t *testing.T) {
	ctx := context.Background()
	seen := map[string]int{}
	for seed := uint64(1); seed <= 30; seed++ {
		s := Generate(seed, DefaultGenerateOptions)
		up, err := newUpstream(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, pod := range s.PendingPods() {
			v, cyc := up.runCycle(ctx, pod)
			if cyc.prefiltered {
				for name, st := range cyc.statuses {
					ni, _ := up.snap.NodeInfos().Get(name)
					if len(up.nominator.NominatedPodsForNode(name)) > 0 && st.IsSuccess() != up.fw.RunFilterPlugins(ctx, cyc.state, pod, ni).IsSuccess() {
						seen["verdict changed by nominated pods"]++
					}
				}
			}
			if !cyc.prefiltered || v.Error != "" || len(topSet(v)) > 0 {
				continue
			}
			pv := up.preemptUpstream(ctx, pod, cyc)
			switch {
			case len(pv.Errors) > 0: // a DRA selector's CEL runtime error in a dry run
				seen["dry run error"]++
			case pv.Error != "":
				t.Errorf("seed %d pod %s: %s", seed, podKey(pod), pv.Error)
			case strings.Contains(pv.Message, "preemptionPolicy=Never"):
				seen["not eligible: Never"]++
			case strings.Contains(pv.Message, "terminating pod"):
				seen["not eligible: terminating victim"]++
			case pv.Message != "":
				seen["no candidate"]++
			}
			if len(pv.Ties) > 1 {
				seen["several final ties"]++
			}
			for _, c := range pv.Candidates {
				seen["candidates"]++
				if c.PDBViolations > 0 {
					seen["pdb violations"]++
				}
				for _, p := range c.Victims {
					if p.Status.StartTime == nil {
						seen["victim without start time"]++
					}
				}
				if len(c.Victims) > 1 {
					seen["several victims"]++
				}
			}
		}
		up.close()
	}
	t.Logf("%v", seen)
	for _, want := range []string{"verdict changed by nominated pods", "not eligible: Never", "not eligible: terminating victim", "no candidate",
		"candidates", "pdb violations", "victim without start time", "several victims"} {
		if seen[want] == 0 {
			t.Errorf("30 seeds give no %q", want)
		}
	}
}

// TestPreemptionMismatchesReported: a victim dropped from the engine's candidate, a final tie
// lost, and a nomination where upstream has none are each reported as preemption mismatches.
func TestPreemptionMismatchesReported(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		alter func(*sextantv1.PreemptResponse)
	}{
		{"victim dropped", func(r *sextantv1.PreemptResponse) {
			for _, c := range r.AllCandidates {
				if len(c.Victims) > 1 {
					c.Victims = c.Victims[1:]
				}
			}
		}},
		{"pdb count", func(r *sextantv1.PreemptResponse) {
			for _, c := range r.AllCandidates {
				c.PdbViolations++
			}
		}},
		{"ties", func(r *sextantv1.PreemptResponse) {
			if len(r.FinalTies) > 0 {
				r.FinalTies = append(r.FinalTies, "node-extra")
			}
		}},
		{"message", func(r *sextantv1.PreemptResponse) {
			if r.NominatedNode == "" {
				r.Message += "!"
			}
		}},
	} {
		total := NewReport(1)
		opts := DefaultGenerateOptions
		opts.DRA = false // DRA plays no part here
		for seed := uint64(1); seed <= 5; seed++ {
			m := &mirrorEngine{alterPreempt: tc.alter}
			r, err := Compare(ctx, Generate(seed, opts), m, CompareOptions{MaxDiffs: 1})
			m.close()
			if err != nil {
				t.Fatal(err)
			}
			total.Add(r)
		}
		if total.Mismatches[KindPreemption] == 0 || total.Total() != total.Mismatches[KindPreemption] {
			var buf bytes.Buffer
			total.Write(&buf)
			t.Errorf("%s: want only preemption mismatches:\n%s", tc.name, buf.String())
		}
	}
}
