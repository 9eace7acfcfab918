package sextant

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

// fakeClient is an engineclient.Client that answers Evaluate with a fixed response or error and
// records every call.
type fakeClient struct {
	mu          sync.Mutex
	resp        *sextantv1.EvaluateResponse
	err         error
	assumeErr   error
	forgetErr   error
	evaluations []string
	preemptResp *sextantv1.PreemptResponse
	preemptErr  error
	preemptions []string
	assumed     []string // "namespace/name@node"
	allocations []engineclient.ClaimAllocation
	forgotten   []string
}

var _ engineclient.Client = &fakeClient{}

func (f *fakeClient) Evaluate(_ context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evaluations = append(f.evaluations, pod.Namespace+"/"+pod.Name)
	return f.resp, f.err
}

// EvaluateAll answers like Evaluate (the fake's answers are always complete) and records the call
// as "all:namespace/name".
func (f *fakeClient) EvaluateAll(_ context.Context, pod *v1.Pod) (*sextantv1.EvaluateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evaluations = append(f.evaluations, "all:"+pod.Namespace+"/"+pod.Name)
	return f.resp, f.err
}

func (f *fakeClient) Preempt(_ context.Context, pod *v1.Pod) (*sextantv1.PreemptResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.preemptions = append(f.preemptions, pod.Namespace+"/"+pod.Name)
	return f.preemptResp, f.preemptErr
}

func (f *fakeClient) Assume(_ context.Context, pod *v1.Pod, node string) ([]engineclient.ClaimAllocation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.assumeErr != nil {
		return nil, f.assumeErr
	}
	f.assumed = append(f.assumed, pod.Namespace+"/"+pod.Name+"@"+node)
	return f.allocations, nil
}

func (f *fakeClient) Forget(_ context.Context, pod *v1.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, pod.Namespace+"/"+pod.Name)
	return f.forgetErr
}

func testPod() *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1"}}
}

func nodeInfo(name string) fwk.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return ni
}

// threeNodes: n1 lacks cpu, n2 has an untolerated taint, n3 and n4 fit; the engine chose n4.
func threeNodes() *sextantv1.EvaluateResponse {
	return &sextantv1.EvaluateResponse{
		Epoch: "e", AppliedSequence: 7,
		Reasons: []string{"Insufficient cpu", "node(s) had untolerated taint {gpu: true}", "Insufficient memory"},
		Nodes: []*sextantv1.NodeResult{
			{Node: "n1", Code: sextantv1.FilterCode_UNSCHEDULABLE, Plugin: "NodeResourcesFit", ReasonIds: []uint32{0, 2}},
			{Node: "n2", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, Plugin: "TaintToleration", ReasonIds: []uint32{1}},
			{Node: "n3", Code: sextantv1.FilterCode_SUCCESS, Score: 150},
			{Node: "n4", Code: sextantv1.FilterCode_SUCCESS, Score: 180},
		},
		FeasibleNodes: 2, ChosenNode: "n4",
	}
}

func runPreFilter(t *testing.T, pl *Plugin) (fwk.CycleState, *fwk.Status) {
	t.Helper()
	state := framework.NewCycleState()
	nodes := []fwk.NodeInfo{nodeInfo("n1"), nodeInfo("n2"), nodeInfo("n3"), nodeInfo("n4")}
	_, status := pl.PreFilter(context.Background(), state, testPod(), nodes)
	return state, status
}

func TestPreFilterOneEvaluatePerCycle(t *testing.T) {
	client := &fakeClient{resp: threeNodes()}
	pl := NewWithClient(client)
	state, status := runPreFilter(t, pl)
	if !status.IsSuccess() {
		t.Fatalf("PreFilter: %v", status)
	}
	ctx := context.Background()
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		st := pl.Filter(ctx, state, testPod(), nodeInfo(n))
		if st.IsSuccess() {
			if _, s := pl.Score(ctx, state, testPod(), nodeInfo(n)); !s.IsSuccess() {
				t.Errorf("Score(%s): %v", n, s)
			}
		}
	}
	if diff := cmp.Diff([]string{"ns/web"}, client.evaluations); diff != "" {
		t.Errorf("Evaluate calls (-want +got):\n%s", diff)
	}
}

// PreFilter narrows the cycle to the engine's chosen node when the snapshot has it, and to nothing
// otherwise (no chosen node: every node is filtered, for the reasons and for preemption). Only a
// chosen node the snapshot lacks needs every node's result (EvaluateAll).
func TestPreFilterNarrowsToTheChosenNode(t *testing.T) {
	snapshot := []fwk.NodeInfo{nodeInfo("n1"), nodeInfo("n2"), nodeInfo("n3"), nodeInfo("n4")}
	for _, tc := range []struct {
		name   string
		chosen string
		nodes  []fwk.NodeInfo
		want   []string // nil: no narrowing
		calls  []string
	}{
		{name: "chosen node in the snapshot", chosen: "n4", nodes: snapshot, want: []string{"n4"},
			calls: []string{"ns/web"}},
		{name: "nothing chosen", chosen: "", nodes: snapshot, calls: []string{"ns/web"}},
		{name: "chosen node not yet in the snapshot", chosen: "n4", nodes: snapshot[:3],
			calls: []string{"ns/web", "all:ns/web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := threeNodes()
			resp.ChosenNode = tc.chosen
			if tc.chosen == "" { // nothing fits: only the two infeasible nodes
				resp.Nodes, resp.FeasibleNodes = resp.Nodes[:2], 0
			}
			client := &fakeClient{resp: resp}
			pl := NewWithClient(client)
			result, status := pl.PreFilter(context.Background(), framework.NewCycleState(), testPod(), tc.nodes)
			if diff := cmp.Diff(tc.calls, client.evaluations); diff != "" {
				t.Errorf("engine calls (-want +got):\n%s", diff)
			}
			if !status.IsSuccess() {
				t.Fatalf("PreFilter: %v", status)
			}
			var got []string
			if result != nil {
				got = sets.List(result.NodeNames)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PreFilterResult nodes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterReasonsAndCodes(t *testing.T) {
	resp := threeNodes()
	resp.Nodes = append(resp.Nodes, &sextantv1.NodeResult{Node: "n5", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, Plugin: "NodeAffinity"})
	pl := NewWithClient(&fakeClient{resp: resp})
	state, status := runPreFilter(t, pl)
	if !status.IsSuccess() {
		t.Fatal(status)
	}
	tests := []struct {
		node        string
		wantCode    fwk.Code
		wantReasons []string
	}{
		{"n1", fwk.Unschedulable, []string{"Insufficient cpu", "Insufficient memory"}},
		{"n2", fwk.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {gpu: true}"}},
		{"n3", fwk.Success, nil},
		{"n4", fwk.Success, nil},
		{"n5", fwk.UnschedulableAndUnresolvable, []string{"node(s) didn't satisfy the engine's NodeAffinity filter"}},
		// The scheduler's cache knows a node the engine has not applied yet.
		{"new", fwk.Unschedulable, []string{"node(s) not yet known to the Sextant engine"}},
	}
	for _, tc := range tests {
		t.Run(tc.node, func(t *testing.T) {
			st := pl.Filter(context.Background(), state, testPod(), nodeInfo(tc.node))
			if st.Code() != tc.wantCode {
				t.Errorf("code = %v, want %v", st.Code(), tc.wantCode)
			}
			var reasons []string
			if st != nil {
				reasons = st.Reasons()
			}
			if diff := cmp.Diff(tc.wantReasons, reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoreChosenNodeIsUniqueBest(t *testing.T) {
	tests := []struct {
		name   string
		scores map[string]int64
		chosen string
		want   map[string]int64
	}{
		{name: "chosen is the engine's best", chosen: "a",
			scores: map[string]int64{"a": 300, "b": 200, "c": 100},
			want:   map[string]int64{"a": 100, "b": 99, "c": 0}},
		{name: "engine tie broken by the engine", chosen: "b",
			scores: map[string]int64{"a": 250, "b": 250, "c": 250},
			want:   map[string]int64{"a": 99, "b": 100, "c": 99}},
		{name: "only the chosen node", chosen: "a",
			scores: map[string]int64{"a": 7},
			want:   map[string]int64{"a": 100}},
		{name: "negative and large engine scores", chosen: "c",
			scores: map[string]int64{"a": -50, "b": 1 << 40, "c": 1 << 41, "d": 0},
			want:   map[string]int64{"a": 0, "b": 99, "c": 100, "d": 0}},
		{name: "others keep the engine's order", chosen: "e",
			scores: map[string]int64{"a": 10, "b": 20, "c": 30, "d": 40, "e": 50},
			want:   map[string]int64{"a": 0, "b": 33, "c": 66, "d": 99, "e": 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &sextantv1.EvaluateResponse{ChosenNode: tc.chosen}
			names := make([]string, 0, len(tc.scores))
			for n := range tc.scores {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				resp.Nodes = append(resp.Nodes, &sextantv1.NodeResult{Node: n, Code: sextantv1.FilterCode_SUCCESS, Score: tc.scores[n]})
			}
			pl := NewWithClient(&fakeClient{resp: resp})
			state, status := runPreFilter(t, pl)
			if !status.IsSuccess() {
				t.Fatal(status)
			}
			got := map[string]int64{}
			for _, n := range names {
				s, st := pl.Score(context.Background(), state, testPod(), nodeInfo(n))
				if !st.IsSuccess() {
					t.Fatalf("Score(%s): %v", n, st)
				}
				if s < 0 || s > fwk.MaxNodeScore || (n != tc.chosen && s >= fwk.MaxNodeScore) {
					t.Errorf("Score(%s) = %d out of range", n, s)
				}
				got[n] = s
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoreRejectsInfeasibleNode(t *testing.T) {
	pl := NewWithClient(&fakeClient{resp: threeNodes()})
	state, _ := runPreFilter(t, pl)
	if _, st := pl.Score(context.Background(), state, testPod(), nodeInfo("n1")); st.Code() != fwk.Error {
		t.Errorf("Score of an infeasible node = %v, want Error", st)
	}
}

func TestReserveAssumesUnreserveForgets(t *testing.T) {
	ctx := context.Background()
	t.Run("reserve then unreserve", func(t *testing.T) {
		client := &fakeClient{resp: threeNodes()}
		pl := NewWithClient(client)
		state, _ := runPreFilter(t, pl)
		if st := pl.Reserve(ctx, state, testPod(), "n4"); !st.IsSuccess() {
			t.Fatalf("Reserve: %v", st)
		}
		pl.Unreserve(ctx, state, testPod(), "n4")
		if diff := cmp.Diff([]string{"ns/web@n4"}, client.assumed); diff != "" {
			t.Errorf("Assume calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"ns/web"}, client.forgotten); diff != "" {
			t.Errorf("Forget calls (-want +got):\n%s", diff)
		}
	})
	t.Run("a feasible node other than the chosen one (nominated node path)", func(t *testing.T) {
		client := &fakeClient{resp: threeNodes()}
		pl := NewWithClient(client)
		state, _ := runPreFilter(t, pl)
		if st := pl.Reserve(ctx, state, testPod(), "n3"); !st.IsSuccess() {
			t.Fatalf("Reserve: %v", st)
		}
		if diff := cmp.Diff([]string{"ns/web@n3"}, client.assumed); diff != "" {
			t.Errorf("Assume calls (-want +got):\n%s", diff)
		}
	})
	t.Run("an infeasible node is never assumed", func(t *testing.T) {
		client := &fakeClient{resp: threeNodes()}
		pl := NewWithClient(client)
		state, _ := runPreFilter(t, pl)
		for _, n := range []string{"n1", "unknown"} {
			if st := pl.Reserve(ctx, state, testPod(), n); st.Code() != fwk.Error {
				t.Errorf("Reserve(%s) = %v, want Error", n, st)
			}
			pl.Unreserve(ctx, state, testPod(), n)
		}
		if len(client.assumed) != 0 || len(client.forgotten) != 0 {
			t.Errorf("assumed %v, forgotten %v; want none", client.assumed, client.forgotten)
		}
	})
	t.Run("assume fails closed, nothing to forget", func(t *testing.T) {
		client := &fakeClient{resp: threeNodes(), assumeErr: fmt.Errorf("%w: Assume: boom", engineclient.ErrUnavailable)}
		pl := NewWithClient(client)
		state, _ := runPreFilter(t, pl)
		st := pl.Reserve(ctx, state, testPod(), "n4")
		if st.Code() != fwk.Error || !strings.Contains(st.Message(), "failing closed") {
			t.Errorf("Reserve = %v, want an Error that says it fails closed", st)
		}
		pl.Unreserve(ctx, state, testPod(), "n4")
		if len(client.forgotten) != 0 {
			t.Errorf("Forget called for a pod that was never assumed: %v", client.forgotten)
		}
	})
	t.Run("forget failure is logged, not fatal", func(t *testing.T) {
		client := &fakeClient{resp: threeNodes(), forgetErr: errors.New("down")}
		pl := NewWithClient(client)
		state, _ := runPreFilter(t, pl)
		if st := pl.Reserve(ctx, state, testPod(), "n4"); !st.IsSuccess() {
			t.Fatal(st)
		}
		pl.Unreserve(ctx, state, testPod(), "n4")
		pl.Unreserve(ctx, state, testPod(), "n4") // once per assumption
		if len(client.forgotten) != 1 {
			t.Errorf("Forget calls = %v, want one", client.forgotten)
		}
	})
}

func TestFailClosed(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unreachable", fmt.Errorf("%w at unix:///tmp/e.sock: Evaluate: connection refused", engineclient.ErrUnavailable), "unavailable at unix:///tmp/e.sock"},
		{"not synced", fmt.Errorf("%w at unix:///tmp/e.sock: the Sync stream is down", engineclient.ErrNotSynced), "not synced"},
		{"stale", fmt.Errorf("%w: applied sequence 3 < 5 sent", engineclient.ErrStale), "stale"},
		{"restarted", fmt.Errorf("%w: Evaluate answered with epoch \"b\", synced with \"a\"", engineclient.ErrEpochChanged), "epoch changed"},
		{"timeout", fmt.Errorf("%w: Evaluate took longer than 2s", engineclient.ErrTimeout), "did not answer in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &fakeClient{err: tc.err}
			pl := NewWithClient(client)
			state, status := runPreFilter(t, pl)
			if status.Code() != fwk.Error {
				t.Fatalf("PreFilter code = %v, want Error (the pod backs off; nothing is bound)", status.Code())
			}
			if msg := status.AsError().Error(); !strings.Contains(msg, "failing closed") || !strings.Contains(msg, tc.want) {
				t.Errorf("PreFilter message %q, want it to say it fails closed and %q", msg, tc.want)
			}
			// Nothing downstream can pass a node without an answer.
			if st := pl.Filter(context.Background(), state, testPod(), nodeInfo("n1")); st.Code() != fwk.Error {
				t.Errorf("Filter without an answer = %v, want Error", st)
			}
			if st := pl.Reserve(context.Background(), state, testPod(), "n1"); st.Code() != fwk.Error {
				t.Errorf("Reserve without an answer = %v, want Error", st)
			}
			if len(client.assumed) != 0 {
				t.Errorf("assumed %v", client.assumed)
			}
		})
	}
}

func TestMalformedAnswerFailsClosed(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*sextantv1.EvaluateResponse)
		want   string
	}{
		{"chosen node infeasible", func(r *sextantv1.EvaluateResponse) { r.ChosenNode = "n1" }, "chosen node n1"},
		{"chosen node absent", func(r *sextantv1.EvaluateResponse) { r.ChosenNode = "zz" }, "chosen node zz"},
		{"feasible but nothing chosen", func(r *sextantv1.EvaluateResponse) { r.ChosenNode = "" }, "none is chosen"},
		{"reason out of range", func(r *sextantv1.EvaluateResponse) { r.Nodes[0].ReasonIds = []uint32{9} }, "reason 9"},
		{"unspecified code", func(r *sextantv1.EvaluateResponse) { r.Nodes[1].Code = sextantv1.FilterCode_FILTER_CODE_UNSPECIFIED }, "filter code"},
		{"duplicate node", func(r *sextantv1.EvaluateResponse) { r.Nodes[1].Node = "n1" }, "twice"},
		{"unnamed node", func(r *sextantv1.EvaluateResponse) { r.Nodes[2].Node = "" }, "no name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := threeNodes()
			tc.mutate(resp)
			_, status := runPreFilter(t, NewWithClient(&fakeClient{resp: resp}))
			if status.Code() != fwk.Error || !strings.Contains(status.Message(), tc.want) {
				t.Errorf("PreFilter = %v, want Error mentioning %q", status, tc.want)
			}
		})
	}
}

func TestUnschedulableEverywhere(t *testing.T) {
	resp := threeNodes()
	resp.Nodes = resp.Nodes[:2]
	resp.ChosenNode, resp.FeasibleNodes = "", 0
	pl := NewWithClient(&fakeClient{resp: resp})
	state, status := runPreFilter(t, pl)
	if !status.IsSuccess() {
		t.Fatalf("PreFilter = %v, want Success (the filters say why)", status)
	}
	if st := pl.Filter(context.Background(), state, testPod(), nodeInfo("n1")); st.Code() != fwk.Unschedulable {
		t.Errorf("Filter(n1) = %v", st)
	}
}

func TestPreFilterRejection(t *testing.T) {
	resp := &sextantv1.EvaluateResponse{PrefilterPlugin: "NodeAffinity", PrefilterMessage: "node(s) didn't match Pod's node affinity/selector"}
	_, status := runPreFilter(t, NewWithClient(&fakeClient{resp: resp}))
	if status.Code() != fwk.UnschedulableAndUnresolvable || status.Message() != resp.PrefilterMessage {
		t.Errorf("PreFilter = %v, want UnschedulableAndUnresolvable %q", status, resp.PrefilterMessage)
	}
	resp.PrefilterMessage = ""
	_, status = runPreFilter(t, NewWithClient(&fakeClient{resp: resp}))
	if !strings.Contains(status.Message(), "NodeAffinity") {
		t.Errorf("PreFilter message without engine text = %q, want the plugin named", status.Message())
	}
}

func TestPluginName(t *testing.T) {
	if got := NewWithClient(&fakeClient{}).Name(); got != "Sextant" {
		t.Errorf("Name() = %q", got)
	}
}

// behindClient is a fakeClient whose consistency guard reports the engine behind the cache.
type behindClient struct {
	fakeClient
	awaited int
}

func (b *behindClient) AwaitView(context.Context, engineclient.CacheView, time.Duration) error {
	b.awaited++
	return fmt.Errorf("%w: node(s) n1", engineclient.ErrBehind)
}

// TestPreFilterEngineBehindCache: with the engine behind the scheduler's cache past the bound,
// PreFilter fails with an Error status (backoff, not the unschedulable queue) and evaluates nothing.
func TestPreFilterEngineBehindCache(t *testing.T) {
	client := &behindClient{fakeClient: fakeClient{resp: threeNodes()}}
	pl := NewWithClient(client)
	_, status := runPreFilter(t, pl)
	if status.Code() != fwk.Error || !strings.Contains(status.Message(), "behind the scheduler's cache") {
		t.Fatalf("PreFilter status = %v, want an Error naming the engine behind the cache", status)
	}
	if client.awaited != 1 || len(client.evaluations) != 0 {
		t.Errorf("AwaitView calls = %d, Evaluate calls = %v; want 1 and none", client.awaited, client.evaluations)
	}
}
