package sextant

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

func init() {
	metrics.Register() // the framework records plugin metrics
}

// fakeFactory registers the plugin with a fake engine client, decoding its args as New does.
func fakeFactory(client *fakeClient) frameworkruntime.PluginFactory {
	return func(_ context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
		if _, err := DecodeArgs(obj); err != nil {
			return nil, err
		}
		return NewWithHandle(client, h, feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)), nil
	}
}

func sextantProfile() *config.KubeSchedulerProfile {
	only := func(name string) config.PluginSet { return config.PluginSet{Enabled: []config.Plugin{{Name: name}}} }
	return &config.KubeSchedulerProfile{
		SchedulerName:            "sextant",
		PercentageOfNodesToScore: ptr.To[int32](100),
		Plugins: &config.Plugins{
			QueueSort: only(queuesort.Name),
			PreFilter: only(Name),
			Filter:    only(Name),
			Score:     config.PluginSet{Enabled: []config.Plugin{{Name: Name, Weight: 1}}},
			Reserve:   only(Name),
			PreBind:   only(Name),
			Bind:      only(defaultbinder.Name),
		},
		PluginConfig: []config.PluginConfig{{Name: Name, Args: &runtime.Unknown{Raw: []byte(`{"timeout": "1s"}`)}}},
	}
}

func testNodes(names ...string) []*v1.Node {
	var out []*v1.Node
	for _, n := range names {
		out = append(out, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	return out
}

// newFramework builds upstream's framework with queue sort, binder and the plugin on a fake engine.
func newFramework(t *testing.T, client *fakeClient, nodes []*v1.Node) framework.Framework {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	registry := frameworkruntime.Registry{
		queuesort.Name:     queuesort.New,
		defaultbinder.Name: defaultbinder.New,
		Name:               fakeFactory(client),
	}
	cs := fake.NewClientset()
	fw, err := frameworkruntime.NewFramework(ctx, registry, sextantProfile(),
		frameworkruntime.WithClientSet(cs),
		frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(cs, 0)),
		frameworkruntime.WithSnapshotSharedLister(cache.NewSnapshot(nil, nodes)))
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

// schedule runs the cycle as upstream's schedulePod does: PreFilter, Filter on every node, then
// FitError or Score and the top node.
func schedule(t *testing.T, fw framework.Framework, pod *v1.Pod, nodes []*v1.Node) (fwk.CycleState, string, error) {
	t.Helper()
	ctx := context.Background()
	state := framework.NewCycleState()
	diagnosis := framework.Diagnosis{NodeToStatus: framework.NewDefaultNodeToStatus()}
	_, status, _ := fw.RunPreFilterPlugins(ctx, state, pod)
	if !status.IsSuccess() {
		if !status.IsRejected() {
			return state, "", status.AsError()
		}
		diagnosis.NodeToStatus.SetAbsentNodesStatus(status)
		diagnosis.PreFilterMsg = status.Message()
		return state, "", &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diagnosis}
	}
	snapshot := cache.NewSnapshot(nil, nodes)
	infos, _ := snapshot.NodeInfos().List()
	var feasible []fwk.NodeInfo
	for _, ni := range infos {
		if st := fw.RunFilterPlugins(ctx, state, pod, ni); st.IsSuccess() {
			feasible = append(feasible, ni)
		} else {
			if !st.IsRejected() {
				return state, "", st.AsError()
			}
			diagnosis.NodeToStatus.Set(ni.Node().Name, st)
		}
	}
	if len(feasible) == 0 {
		return state, "", &framework.FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diagnosis}
	}
	if st := fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return state, "", st.AsError()
	}
	scores, st := fw.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return state, "", st.AsError()
	}
	best, top := "", int64(-1)
	for _, s := range scores {
		if s.TotalScore > top {
			best, top = s.Name, s.TotalScore
		} else if s.TotalScore == top {
			return state, "", fmt.Errorf("score tie between %s and %s: the framework would pick at random", best, s.Name)
		}
	}
	return state, best, nil
}

func TestUpstreamFrameworkFitErrorCarriesEngineReasons(t *testing.T) {
	nodes := testNodes("n1", "n2", "n3", "n4")
	resp := &sextantv1.EvaluateResponse{
		Reasons: []string{"Insufficient cpu", "node(s) had untolerated taint {gpu: true}", "Insufficient memory"},
		Nodes: []*sextantv1.NodeResult{
			{Node: "n1", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0, 2}},
			{Node: "n2", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, ReasonIds: []uint32{1}},
			{Node: "n3", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
			{Node: "n4", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, ReasonIds: []uint32{1}},
		},
		FitError: "0/4 nodes are available: 1 Insufficient memory, 2 Insufficient cpu, 2 node(s) had untolerated taint {gpu: true}.",
	}
	client := &fakeClient{resp: resp}
	fw := newFramework(t, client, nodes)
	_, _, err := schedule(t, fw, testPod(), nodes)
	fitErr, ok := err.(*framework.FitError)
	if !ok {
		t.Fatalf("schedule error = %v, want a FitError", err)
	}
	// The FailedScheduling event and the pod condition carry exactly this text.
	if got := fitErr.Error(); got != resp.FitError {
		t.Errorf("FitError = %q\nwant the engine's %q", got, resp.FitError)
	}
	// Preemption reads the codes: unresolvable nodes are never candidates.
	for node, want := range map[string]fwk.Code{"n1": fwk.Unschedulable, "n2": fwk.UnschedulableAndUnresolvable, "n3": fwk.Unschedulable, "n4": fwk.UnschedulableAndUnresolvable} {
		if got := fitErr.Diagnosis.NodeToStatus.Get(node).Code(); got != want {
			t.Errorf("status of %s = %v, want %v", node, got, want)
		}
		if got := fitErr.Diagnosis.NodeToStatus.Get(node).Plugin(); got != Name {
			t.Errorf("status of %s names plugin %q, want %q", node, got, Name)
		}
	}
	if len(client.evaluations) != 1 {
		t.Errorf("Evaluate calls = %d, want one per cycle", len(client.evaluations))
	}
}

func TestUpstreamFrameworkPreFilterRejection(t *testing.T) {
	nodes := testNodes("n1", "n2")
	resp := &sextantv1.EvaluateResponse{PrefilterPlugin: "NodeAffinity", PrefilterMessage: "node(s) didn't match Pod's node affinity/selector"}
	_, _, err := schedule(t, newFramework(t, &fakeClient{resp: resp}, nodes), testPod(), nodes)
	want := "0/2 nodes are available: node(s) didn't match Pod's node affinity/selector."
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestUpstreamFrameworkBindsTheEngineChoice(t *testing.T) {
	nodes := testNodes("a", "b", "c", "d")
	resp := &sextantv1.EvaluateResponse{
		Reasons: []string{"Insufficient cpu"},
		Nodes: []*sextantv1.NodeResult{
			{Node: "a", Code: sextantv1.FilterCode_SUCCESS, Score: 310},
			{Node: "b", Code: sextantv1.FilterCode_SUCCESS, Score: 310}, // tie in the engine, broken by it
			{Node: "c", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
			{Node: "d", Code: sextantv1.FilterCode_SUCCESS, Score: 120},
		},
		FeasibleNodes: 3, ChosenNode: "b",
	}
	client := &fakeClient{resp: resp}
	fw := newFramework(t, client, nodes)
	state, node, err := schedule(t, fw, testPod(), nodes)
	if err != nil {
		t.Fatal(err)
	}
	if node != "b" {
		t.Errorf("framework selected %q, want the engine's choice b", node)
	}
	ctx := context.Background()
	if st := fw.RunReservePluginsReserve(ctx, state, testPod(), node); !st.IsSuccess() {
		t.Fatalf("Reserve: %v", st)
	}
	fw.RunReservePluginsUnreserve(ctx, state, testPod(), node)
	if diff := cmp.Diff([]string{"ns/web@b"}, client.assumed); diff != "" {
		t.Errorf("Assume (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ns/web"}, client.forgotten); diff != "" {
		t.Errorf("Forget (-want +got):\n%s", diff)
	}
}

func TestUpstreamFrameworkFailsClosed(t *testing.T) {
	nodes := testNodes("n1")
	client := &fakeClient{err: fmt.Errorf("Sextant engine unavailable at unix:///tmp/sextant-engine.sock: connection refused")}
	_, node, err := schedule(t, newFramework(t, client, nodes), testPod(), nodes)
	if err == nil || node != "" {
		t.Fatalf("schedule = %q, %v; want an error and no node", node, err)
	}
	if _, isFit := err.(*framework.FitError); isFit {
		t.Errorf("an unreachable engine must be an error (backoff), not unschedulable: %v", err)
	}
	if !strings.Contains(err.Error(), "failing closed") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not say what happened", err)
	}
}

// TestDeployConfig loads config/sextant-scheduler-config.yaml as the scheduler binary does and
// checks the plugins each extension point runs.
func TestDeployConfig(t *testing.T) {
	logger, ctx := ktesting.NewTestContext(t)
	cfg, err := options.LoadConfigFromFile(logger, filepath.Join("..", "..", "config", "sextant-scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validation.ValidateKubeSchedulerConfiguration(cfg); err != nil {
		t.Fatalf("invalid configuration: %v", err)
	}
	if len(cfg.Profiles) != 1 || cfg.Profiles[0].SchedulerName != "sextant" || *cfg.Profiles[0].PercentageOfNodesToScore != 100 {
		t.Fatalf("profiles = %+v", cfg.Profiles)
	}
	if cfg.LeaderElection.ResourceName == "kube-scheduler" {
		t.Error("the secondary scheduler must not share the default scheduler's lease")
	}
	registry := plugins.NewInTreeRegistry()
	if err := registry.Register(Name, fakeFactory(&fakeClient{})); err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	fw, err := frameworkruntime.NewFramework(ctx, registry, &cfg.Profiles[0],
		frameworkruntime.WithClientSet(cs),
		frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(cs, 0)),
		frameworkruntime.WithSnapshotSharedLister(cache.NewSnapshot(nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	names := func(set config.PluginSet) []string {
		var out []string
		for _, p := range set.Enabled {
			out = append(out, p.Name)
		}
		return out
	}
	got := fw.ListPlugins()
	for _, tc := range []struct {
		point string
		set   config.PluginSet
		want  []string
	}{
		{"preEnqueue", got.PreEnqueue, []string{"SchedulingGates", Name}},
		{"queueSort", got.QueueSort, []string{"PrioritySort"}},
		{"preFilter", got.PreFilter, []string{Name}},
		{"filter", got.Filter, []string{Name}},
		{"postFilter", got.PostFilter, []string{Name}},
		{"preScore", got.PreScore, nil},
		{"score", got.Score, []string{Name}},
		{"reserve", got.Reserve, []string{Name}},
		{"permit", got.Permit, nil},
		{"preBind", got.PreBind, []string{Name}},
		{"bind", got.Bind, []string{"DefaultBinder"}},
		{"postBind", got.PostBind, nil},
	} {
		if diff := cmp.Diff(tc.want, names(tc.set)); diff != "" {
			t.Errorf("%s plugins (-want +got):\n%s", tc.point, diff)
		}
	}
	var args *Args
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if pc.Name == Name {
			if args, err = DecodeArgs(pc.Args); err != nil {
				t.Fatal(err)
			}
		}
	}
	if args == nil || args.EngineAddress != DefaultEngineAddress || args.Timeout.Duration.String() != "2s" || args.ScoringStrategy.Type != "LeastAllocated" {
		t.Errorf("Sextant args from the config = %+v", args)
	}
}

// TestEngineNodeOnly: upstream's Evaluator sees only the engine's node as a node where
// preemption might help; the other statuses read through unchanged.
func TestEngineNodeOnly(t *testing.T) {
	var nodes []*v1.Node
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	}
	lister := cache.NewSnapshot(nil, nodes).NodeInfos()
	m := framework.NewDefaultNodeToStatus()
	m.Set("n1", fwk.NewStatus(fwk.Unschedulable, "too big"))
	m.Set("n2", fwk.NewStatus(fwk.Unschedulable, "too big"))
	m.Set("n3", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "taint"))
	names := func(r fwk.NodeToStatusReader, code fwk.Code) []string {
		t.Helper()
		infos, err := r.NodesForStatusCode(lister, code)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ni := range infos {
			out = append(out, ni.Node().Name)
		}
		return out
	}
	if got := names(engineNodeOnly{NodeToStatusReader: m, node: "n2"}, fwk.Unschedulable); fmt.Sprint(got) != "[n2]" {
		t.Errorf("Unschedulable nodes = %v, want the engine's [n2]", got)
	}
	if got := names(engineNodeOnly{NodeToStatusReader: m, node: "n3"}, fwk.Unschedulable); len(got) != 0 {
		t.Errorf("Unschedulable nodes = %v, want none (the engine's node is unresolvable)", got)
	}
	r := engineNodeOnly{NodeToStatusReader: m, node: "n2"}
	if got := names(r, fwk.UnschedulableAndUnresolvable); fmt.Sprint(got) != "[n3]" {
		t.Errorf("UnschedulableAndUnresolvable nodes = %v, want [n3]", got)
	}
	if got := r.Get("n1"); got.Code() != fwk.Unschedulable || got.Message() != "too big" {
		t.Errorf("Get(n1) = %v, want the filter's status", got)
	}
}
