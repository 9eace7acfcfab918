package parity

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// mirrorEngine answers Evaluate with upstream's own verdicts (optionally altered), so the
// comparison logic is tested without the C++ engine.
type mirrorEngine struct {
	up    *upstream
	alter func(*sextantv1.EvaluateResponse)
}

func (m *mirrorEngine) Load(ctx context.Context, s *Snapshot) error {
	var err error
	m.up, err = newUpstream(ctx, s)
	return err
}

func (m *mirrorEngine) Evaluate(ctx context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error) {
	v := m.up.evaluate(ctx, pod)
	resp := &sextantv1.EvaluateResponse{PrefilterPlugin: v.PreFilterPlugin, PrefilterMessage: v.PreFilterMessage}
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

func TestCompareAgainstItself(t *testing.T) {
	ctx := context.Background()
	total := NewReport(5)
	for seed := uint64(1); seed <= 20; seed++ {
		r, err := Compare(ctx, Generate(seed, DefaultGenerateOptions), &mirrorEngine{}, 5)
		if err != nil {
			t.Fatal(err)
		}
		total.Add(r)
	}
	var buf bytes.Buffer
	total.Write(&buf)
	t.Log(buf.String())
	if total.Total() != 0 {
		t.Fatalf("upstream differs from itself:\n%s", buf.String())
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
	r, err := Compare(ctx, s, &mirrorEngine{alter: alter}, 3)
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
// SEXTANT_PARITY_NO_POD_LEVEL set, no pod has spec.resources.
func TestParitySweep(t *testing.T) {
	if os.Getenv("SEXTANT_ENGINE_BINARY") == "" {
		t.Skip("SEXTANT_ENGINE_BINARY is not set; set it to a built `sextant` binary (e.g. ../build/sextant) to compare the engine with upstream on generated snapshots")
	}
	address := enginetest.StartRealEngine(t)
	engine, err := DialEngine(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	seeds, first := envInt(t, "SEXTANT_PARITY_SEEDS", 200), envInt(t, "SEXTANT_PARITY_FIRST_SEED", 1)
	dump := os.Getenv("SEXTANT_PARITY_DUMP")
	opts := DefaultGenerateOptions
	opts.NoPodLevelResources = os.Getenv("SEXTANT_PARITY_NO_POD_LEVEL") != ""
	total := NewReport(20)
	var badSeeds []uint64
	for seed := uint64(first); seed < uint64(first+seeds); seed++ {
		s := Generate(seed, opts)
		r, err := Compare(context.Background(), s, engine, 20)
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
	v := up.evaluate(context.Background(), pod).Nodes["n1"]
	// Containers: cpu 1/4 -> 75, memory 1Gi/8Gi -> 87.5: 81. Pod level would give (50+75)/2 = 62.
	if got := v.Scores["NodeResourcesFit"]; got != 81 {
		t.Errorf("NodeResourcesFit score = %d, want 81 (container requests, pod-level ignored): %s", got, v)
	}
}
