package engineclient

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

type harness struct {
	t       *testing.T
	ctx     context.Context
	cs      *fake.Clientset
	engine  *enginetest.FakeEngine
	client  *GRPCClient
	scoring *sextantv1.ScoringStrategy
}

type harnessOptions struct {
	timeout time.Duration
	objects []runtime.Object
}

// newHarness starts a fake engine, a fake clientset with informers, and a client whose Sync loop
// runs until the test ends; it returns once the engine has acknowledged the first snapshot.
func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 2 * time.Second
	}
	engine := enginetest.New()
	dial := engine.Serve(t)
	cs := fake.NewClientset(o.objects...)
	watches := make(chan struct{}, 16)
	cs.PrependWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if w, ok := action.(clienttesting.WatchActionImpl); ok {
			opts = w.ListOptions
		}
		w, err := cs.Tracker().Watch(action.GetResource(), action.GetNamespace(), opts)
		if err != nil {
			return false, nil, err
		}
		watches <- struct{}{}
		return true, w, nil
	})
	factory := informers.NewSharedInformerFactory(cs, 0)
	logger, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	scoring := &sextantv1.ScoringStrategy{Type: "MostAllocated", Resources: []*sextantv1.ResourceSpec{{Name: "cpu", Weight: 2}}}
	client, err := New(Options{
		Address: "passthrough:///sextant-engine", Timeout: o.timeout, ScoringStrategy: scoring,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, DialOptions: dial,
	}, factory, logger)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		client.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
	})
	// The fake clientset drops events that happen before a watch is open; wait for all twelve
	// (eight synced kinds, four read for the default spread selector).
	for i := 0; i < 12; i++ {
		select {
		case <-watches:
		case <-time.After(15 * time.Second):
			t.Fatal("informers did not start watching")
		}
	}
	h := &harness{t: t, ctx: ctx, cs: cs, engine: engine, client: client, scoring: scoring}
	h.waitSynced("the first snapshot")
	return h
}

func (h *harness) waitSynced(what string) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if synced, _, _ := h.client.Synced(); synced {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("client not synced after %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectEngineMatchesCluster waits until the engine's objects equal the cluster's, converted.
func (h *harness) expectEngineMatchesCluster() {
	h.t.Helper()
	want := map[string]*sextantv1.Change{}
	ctx := context.Background()
	nodes, _ := h.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	for i := range nodes.Items {
		c := &sextantv1.Change{Change: &sextantv1.Change_UpsertNode{UpsertNode: NodeToProto(&nodes.Items[i])}}
		want[enginetest.ObjectKey(c)] = c
	}
	pods, _ := h.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	for i := range pods.Items {
		if !IsTerminal(&pods.Items[i]) {
			c := &sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: PodToProto(&pods.Items[i])}}
			want[enginetest.ObjectKey(c)] = c
		}
	}
	pcs, _ := h.cs.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
	for i := range pcs.Items {
		c := &sextantv1.Change{Change: &sextantv1.Change_UpsertPriorityClass{UpsertPriorityClass: PriorityClassToProto(&pcs.Items[i])}}
		want[enginetest.ObjectKey(c)] = c
	}
	pdbs, _ := h.cs.PolicyV1().PodDisruptionBudgets("").List(ctx, metav1.ListOptions{})
	for i := range pdbs.Items {
		converted, err := PodDisruptionBudgetToProto(&pdbs.Items[i])
		if err != nil {
			h.t.Fatal(err)
		}
		c := &sextantv1.Change{Change: &sextantv1.Change_UpsertPodDisruptionBudget{UpsertPodDisruptionBudget: converted}}
		want[enginetest.ObjectKey(c)] = c
	}
	namespaces, _ := h.cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	for i := range namespaces.Items {
		c := &sextantv1.Change{Change: &sextantv1.Change_UpsertNamespace{UpsertNamespace: NamespaceToProto(&namespaces.Items[i])}}
		want[enginetest.ObjectKey(c)] = c
	}
	classes, _ := h.cs.ResourceV1().DeviceClasses().List(ctx, metav1.ListOptions{})
	for i := range classes.Items {
		c := deviceClassChange(&classes.Items[i])
		want[enginetest.ObjectKey(c)] = c
	}
	slices, _ := h.cs.ResourceV1().ResourceSlices().List(ctx, metav1.ListOptions{})
	for i := range slices.Items {
		c := resourceSliceChange(&slices.Items[i])
		want[enginetest.ObjectKey(c)] = c
	}
	claims, _ := h.cs.ResourceV1().ResourceClaims("").List(ctx, metav1.ListOptions{})
	for i := range claims.Items {
		c := resourceClaimChange(&claims.Items[i])
		want[enginetest.ObjectKey(c)] = c
	}
	var diff string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		h.engine.With(func(f *enginetest.FakeEngine) { diff = cmp.Diff(want, f.Objects, protocmp.Transform()) })
		if diff == "" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("engine state differs from the cluster (-cluster +engine):\n%s", diff)
}

// messages returns a copy of what the engine received.
func (h *harness) messages() []*sextantv1.SyncRequest {
	var out []*sextantv1.SyncRequest
	h.engine.With(func(f *enginetest.FakeEngine) { out = append(out, f.Received...) })
	return out
}

func (h *harness) waitMessages(n int) []*sextantv1.SyncRequest {
	h.t.Helper()
	h.engine.WaitFor(h.t, "sync messages", func(f *enginetest.FakeEngine) bool { return len(f.Received) >= n })
	return h.messages()
}

func node(name string) *v1.Node {
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: v1.NodeStatus{Allocatable: rl("cpu", "4", "memory", "8Gi")}}
}

func pod(ns, name, nodeName string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{NodeName: nodeName, SchedulerName: "sextant", Containers: []v1.Container{{Name: "c",
			Resources: v1.ResourceRequirements{Requests: rl("cpu", "100m")}}}},
		Status: v1.PodStatus{Phase: v1.PodPending},
	}
}

func keysOf(full *sextantv1.FullSnapshot) []string {
	var keys []string
	for _, c := range full.Objects {
		keys = append(keys, enginetest.ObjectKey(c))
	}
	return keys
}

func deltaOf(t *testing.T, m *sextantv1.SyncRequest) *sextantv1.Delta {
	t.Helper()
	d := m.GetDelta()
	if d == nil {
		t.Fatalf("got %v, want a delta", m)
	}
	return d
}

func TestSyncFullSnapshotOnConnect(t *testing.T) {
	done := pod("ns", "done", "n1")
	done.Status.Phase = v1.PodSucceeded
	h := newHarness(t, harnessOptions{objects: []runtime.Object{
		node("n2"), node("n1"),
		pod("ns", "pending", ""), pod("ns", "bound", "n1"), done,
		&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000},
		fullPDB(),
	}})
	msgs := h.messages()
	if len(msgs) != 1 {
		t.Fatalf("engine received %d messages, want just the full snapshot", len(msgs))
	}
	full := msgs[0].GetFull()
	if full == nil || full.Sequence != 1 {
		t.Fatalf("first message = %v, want a full snapshot with sequence 1", msgs[0])
	}
	want := []string{"NODE//n1", "NODE//n2", "POD/ns/bound", "POD/ns/pending", "PRIORITY_CLASS//high", "POD_DISRUPTION_BUDGET/ns/web"}
	if diff := cmp.Diff(want, keysOf(full)); diff != "" {
		t.Errorf("snapshot objects (-want +got), terminal pods left out:\n%s", diff)
	}
	if !proto.Equal(full.ScoringStrategy, h.scoring) {
		t.Errorf("scoring strategy = %v, want %v", full.ScoringStrategy, h.scoring)
	}
	if synced, epoch, seq := h.client.Synced(); !synced || epoch != "epoch-0" || seq != 1 {
		t.Errorf("Synced() = %v, %q, %d; want true, epoch-0, 1", synced, epoch, seq)
	}
	h.expectEngineMatchesCluster()
}

func TestSyncOrderedDeltas(t *testing.T) {
	pdb := fullPDB()
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), pdb}})
	ctx := context.Background()
	core, sched, policy := h.cs.CoreV1(), h.cs.SchedulingV1(), h.cs.PolicyV1()
	p1 := pod("ns", "p1", "")

	steps := []struct {
		name string
		do   func() error
		want string // object key of the delta's change, "-" prefix for a delete
	}{
		{"add node", func() error { _, err := core.Nodes().Create(ctx, node("n2"), metav1.CreateOptions{}); return err }, "NODE//n2"},
		{"add pending pod", func() error { _, err := core.Pods("ns").Create(ctx, p1, metav1.CreateOptions{}); return err }, "POD/ns/p1"},
		{"bind pod", func() error {
			p1.Spec.NodeName = "n2"
			_, err := core.Pods("ns").Update(ctx, p1, metav1.UpdateOptions{})
			return err
		}, "POD/ns/p1"},
		// An update that changes nothing the engine sees sends nothing: the next delta is the next step's.
		{"annotate pod (no delta) then add priority class", func() error {
			p1.Annotations = map[string]string{"note": "x"}
			if _, err := core.Pods("ns").Update(ctx, p1, metav1.UpdateOptions{}); err != nil {
				return err
			}
			_, err := sched.PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "pc"}, Value: 5}, metav1.CreateOptions{})
			return err
		}, "PRIORITY_CLASS//pc"},
		{"update pdb status", func() error {
			pdb.Status.DisruptionsAllowed = 3
			_, err := policy.PodDisruptionBudgets("ns").Update(ctx, pdb, metav1.UpdateOptions{})
			return err
		}, "POD_DISRUPTION_BUDGET/ns/web"},
		{"pod succeeds: a delete", func() error {
			p1.Status.Phase = v1.PodSucceeded
			_, err := core.Pods("ns").Update(ctx, p1, metav1.UpdateOptions{})
			return err
		}, "-POD/ns/p1"},
		{"delete node", func() error { return core.Nodes().Delete(ctx, "n2", metav1.DeleteOptions{}) }, "-NODE//n2"},
		{"delete pdb", func() error { return policy.PodDisruptionBudgets("ns").Delete(ctx, "web", metav1.DeleteOptions{}) }, "-POD_DISRUPTION_BUDGET/ns/web"},
		{"delete priority class", func() error { return sched.PriorityClasses().Delete(ctx, "pc", metav1.DeleteOptions{}) }, "-PRIORITY_CLASS//pc"},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("step %q: %v", step.name, err)
		}
		msgs := h.waitMessages(i + 2)
		if len(msgs) != i+2 {
			t.Fatalf("step %q: engine has %d messages, want %d", step.name, len(msgs), i+2)
		}
		d := deltaOf(t, msgs[i+1])
		if d.Sequence != uint64(i+2) {
			t.Errorf("step %q: delta sequence %d, want %d (consecutive)", step.name, d.Sequence, i+2)
		}
		if len(d.Changes) != 1 {
			t.Fatalf("step %q: delta has %d changes, want one per event", step.name, len(d.Changes))
		}
		got := enginetest.ObjectKey(d.Changes[0])
		if d.Changes[0].GetDelete() != nil {
			got = "-" + got
		}
		if got != step.want {
			t.Errorf("step %q: delta changes %s, want %s", step.name, got, step.want)
		}
	}
	if d := deltaOf(t, h.messages()[3]); d.Changes[0].GetUpsertPod().GetNodeName() != "n2" {
		t.Errorf("the bind delta carries node %q, want n2", d.Changes[0].GetUpsertPod().GetNodeName())
	}
	if _, _, seq := h.client.Synced(); seq != uint64(len(steps)+1) {
		t.Errorf("last sequence sent = %d, want %d", seq, len(steps)+1)
	}
	h.expectEngineMatchesCluster()
}

func TestSyncResyncRequired(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1")}})
	ctx := context.Background()
	h.engine.With(func(f *enginetest.FakeEngine) { f.ResyncNext = 1 })
	if _, err := h.cs.CoreV1().Nodes().Create(ctx, node("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs := h.waitMessages(3)
	if deltaOf(t, msgs[1]).Sequence != 2 {
		t.Errorf("rejected delta has sequence %d, want 2", deltaOf(t, msgs[1]).Sequence)
	}
	full := msgs[2].GetFull()
	if full == nil || full.Sequence != 3 {
		t.Fatalf("after resync_required got %v, want a full snapshot with sequence 3", msgs[2])
	}
	if diff := cmp.Diff([]string{"NODE//n1", "NODE//n2"}, keysOf(full)); diff != "" {
		t.Errorf("resync snapshot (-want +got):\n%s", diff)
	}
	h.waitSynced("the resync")
	if _, err := h.cs.CoreV1().Nodes().Create(ctx, node("n3"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs = h.waitMessages(4)
	if d := deltaOf(t, msgs[3]); d.Sequence != 4 {
		t.Errorf("delta after the resync has sequence %d, want 4", d.Sequence)
	}
	h.expectEngineMatchesCluster()
}

func TestSyncEpochChangeOnStream(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1")}})
	// The engine answers the next delta with another epoch (say, a different process behind
	// the same address) without the stream breaking.
	h.engine.With(func(f *enginetest.FakeEngine) { f.Epoch = "epoch-other" })
	if _, err := h.cs.CoreV1().Nodes().Create(context.Background(), node("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs := h.waitMessages(3)
	if full := msgs[2].GetFull(); full == nil || full.Sequence != 3 {
		t.Fatalf("after an epoch change got %v, want a full snapshot with sequence 3", msgs[2])
	}
	h.engine.WaitFor(t, "the engine to apply the snapshot", func(f *enginetest.FakeEngine) bool { return f.Applied == 3 })
	h.waitSynced("the epoch change")
	if _, epoch, _ := h.client.Synced(); epoch != "epoch-other" {
		t.Errorf("epoch = %q, want epoch-other", epoch)
	}
	h.expectEngineMatchesCluster()
}

func TestSyncReconnectsAfterDroppedStream(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), pod("ns", "a", "n1")}})
	ctx := context.Background()
	h.engine.With(func(f *enginetest.FakeEngine) { f.DropNext = true })
	if _, err := h.cs.CoreV1().Nodes().Create(ctx, node("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.engine.WaitFor(t, "a second stream", func(f *enginetest.FakeEngine) bool { return f.Streams >= 2 })
	h.waitSynced("the reconnect")
	msgs := h.messages()
	full := msgs[2].GetFull()
	if full == nil {
		t.Fatalf("first message on the new stream = %v, want a full snapshot", msgs[2])
	}
	if !strings.Contains(strings.Join(keysOf(full), ","), "NODE//n2") {
		t.Errorf("the snapshot after the reconnect lacks the node whose delta was dropped: %v", keysOf(full))
	}
	// Changes keep flowing, and whatever happened meanwhile is not lost.
	if err := h.cs.CoreV1().Pods("ns").Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.cs.CoreV1().Pods("ns").Create(ctx, pod("ns", "b", ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.expectEngineMatchesCluster()
}

func TestSyncReconnectsAfterEngineRestart(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), pod("ns", "inflight", ""), pod("ns", "landed", "")}})
	ctx := context.Background()
	inflight, _ := h.cs.CoreV1().Pods("ns").Get(ctx, "inflight", metav1.GetOptions{})
	landed, _ := h.cs.CoreV1().Pods("ns").Get(ctx, "landed", metav1.GetOptions{})
	for _, p := range []*v1.Pod{inflight, landed} {
		if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
			t.Fatalf("Assume(%s): %v", p.Name, err)
		}
	}
	// One binding lands before the restart; the other is still in flight.
	landed.Spec.NodeName = "n1"
	if _, err := h.cs.CoreV1().Pods("ns").Update(ctx, landed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitMessages(2)

	h.engine.Restart()
	h.engine.WaitFor(t, "a snapshot on the restarted engine", func(f *enginetest.FakeEngine) bool { return f.Synced })
	h.waitSynced("the restart")
	if _, epoch, _ := h.client.Synced(); epoch != "epoch-1" {
		t.Errorf("epoch = %q, want epoch-1", epoch)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		want := map[string]string{"ns/inflight": "n1"}
		if diff := cmp.Diff(want, f.Assumed); diff != "" {
			t.Errorf("assumptions on the restarted engine (-want +got):\n%s", diff)
		}
		last := f.Assumes[len(f.Assumes)-1]
		if last.Epoch != "epoch-1" || last.Pod.Name != "inflight" {
			t.Errorf("re-assume = %v, want pod inflight with epoch-1", last)
		}
	})
	h.expectEngineMatchesCluster()
}

func TestSyncRoundTripTimeout(t *testing.T) {
	h := newHarness(t, harnessOptions{timeout: 200 * time.Millisecond, objects: []runtime.Object{node("n1")}})
	h.engine.With(func(f *enginetest.FakeEngine) { f.SilentNext = true })
	if _, err := h.cs.CoreV1().Nodes().Create(context.Background(), node("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.engine.WaitFor(t, "a new stream after the unanswered delta", func(f *enginetest.FakeEngine) bool { return f.Streams >= 2 && f.Synced && f.Applied >= 3 })
	h.waitSynced("the timeout")
	h.expectEngineMatchesCluster()
}

func TestEvaluate(t *testing.T) {
	someNode := &sextantv1.NodeResult{Node: "n1", Code: sextantv1.FilterCode_SUCCESS}
	tests := []struct {
		name     string
		evaluate func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error)
		wantErr  error
		wantMsg  string
		resync   bool
	}{
		{name: "answer", evaluate: func(r *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return &sextantv1.EvaluateResponse{Epoch: r.Epoch, AppliedSequence: r.MinSequence, ChosenNode: "n1", Nodes: []*sextantv1.NodeResult{someNode}}, nil
		}},
		{name: "answer from an older state", wantErr: ErrStale, evaluate: func(r *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return &sextantv1.EvaluateResponse{Epoch: r.Epoch, AppliedSequence: r.MinSequence - 1}, nil
		}},
		{name: "engine says stale", wantErr: ErrUnavailable, wantMsg: "engine is stale", evaluate: func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return nil, status.Error(codes.Unavailable, "engine is stale: applied sequence 1 < 2")
		}},
		{name: "answer from another epoch", wantErr: ErrEpochChanged, resync: true, evaluate: func(r *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return &sextantv1.EvaluateResponse{Epoch: "epoch-9", AppliedSequence: r.MinSequence}, nil
		}},
		{name: "engine says epoch mismatch", wantErr: ErrEpochChanged, resync: true, evaluate: func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return nil, status.Error(codes.FailedPrecondition, "engine epoch is x, not y: the engine restarted, resync required")
		}},
		{name: "too slow", wantErr: ErrTimeout, evaluate: func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			time.Sleep(time.Second)
			return &sextantv1.EvaluateResponse{}, nil
		}},
		{name: "internal error", wantErr: ErrEngine, wantMsg: "Internal", evaluate: func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			return nil, status.Error(codes.Internal, "boom")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{timeout: 300 * time.Millisecond, objects: []runtime.Object{node("n1")}})
			h.engine.With(func(f *enginetest.FakeEngine) { f.EvaluateFunc = tc.evaluate })
			p := pod("ns", "p", "")
			resp, err := h.client.Evaluate(context.Background(), p)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if resp.ChosenNode != "n1" {
					t.Errorf("chosen = %q", resp.ChosenNode)
				}
			} else if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
			h.engine.With(func(f *enginetest.FakeEngine) {
				req := f.Evals[0]
				if req.MinSequence != 1 || req.Epoch != "epoch-0" {
					t.Errorf("request min_sequence %d epoch %q, want 1 and epoch-0", req.MinSequence, req.Epoch)
				}
				if !proto.Equal(req.Pod, PodToProto(p)) {
					t.Errorf("request pod = %v", req.Pod)
				}
			})
			if tc.resync {
				msgs := h.waitMessages(2)
				if msgs[1].GetFull() == nil {
					t.Errorf("after %s the client sent %v, want a full snapshot", tc.name, msgs[1])
				}
			}
		})
	}
}

func TestEngineGoneFailsClosed(t *testing.T) {
	h := newHarness(t, harnessOptions{timeout: 300 * time.Millisecond, objects: []runtime.Object{node("n1"), pod("ns", "p", "")}})
	h.engine.Stop() // the engine process is gone: the stream breaks, reconnects fail
	deadline := time.Now().Add(10 * time.Second)
	for {
		if synced, _, _ := h.client.Synced(); !synced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("client still synced after the engine went away")
		}
		time.Sleep(time.Millisecond)
	}
	ctx := context.Background()
	p, _ := h.cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	if _, err := h.client.Evaluate(ctx, p); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Evaluate error = %v, want ErrNotSynced", err)
	}
	if _, err := h.client.Assume(ctx, p, "n1"); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Assume error = %v, want ErrNotSynced", err)
	}
}

func TestUnreachableEngine(t *testing.T) {
	cs := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(cs, 0)
	logger, ctx := ktesting.NewTestContext(t)
	client, err := New(Options{Address: "unix://" + t.TempDir() + "/none.sock", Timeout: 200 * time.Millisecond}, factory, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	factory.Start(ctx.Done())
	go client.Run(ctx)
	p := pod("ns", "p", "")
	if _, err := client.Evaluate(ctx, p); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Evaluate error = %v, want ErrNotSynced", err)
	}
	if _, err := client.Assume(ctx, p, "n1"); !errors.Is(err, ErrNotSynced) {
		t.Errorf("Assume error = %v, want ErrNotSynced", err)
	}
	// Past the not-synced gate, a call to a missing socket is UNAVAILABLE.
	client.mu.Lock()
	client.synced, client.epoch = true, "e"
	client.mu.Unlock()
	if _, err := client.Evaluate(ctx, p); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "none.sock") {
		t.Errorf("Evaluate error = %v, want ErrUnavailable naming the address", err)
	}
}

func TestAssumeForget(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), pod("ns", "p", "")}})
	ctx := context.Background()
	p, _ := h.cs.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
		t.Fatal(err)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		if f.Assumed["ns/p"] != "n1" || f.Assumes[0].Epoch != "epoch-0" || !proto.Equal(f.Assumes[0].Pod, PodToProto(p)) {
			t.Errorf("engine assumptions %v, request %v", f.Assumed, f.Assumes[0])
		}
	})
	if err := h.client.Forget(ctx, p); err != nil {
		t.Fatal(err)
	}
	// Forgetting what the engine does not hold (NOT_FOUND) is fine.
	if err := h.client.Forget(ctx, p); err != nil {
		t.Errorf("second Forget: %v", err)
	}
	// A failed Forget is retried after the resync it triggers.
	if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
		t.Fatal(err)
	}
	h.engine.With(func(f *enginetest.FakeEngine) { f.FailForgets = 1 })
	if err := h.client.Forget(ctx, p); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Forget error = %v, want ErrUnavailable", err)
	}
	h.engine.WaitFor(t, "the Forget retry", func(f *enginetest.FakeEngine) bool { _, held := f.Assumed["ns/p"]; return !held })
	msgs := h.messages()
	if msgs[len(msgs)-1].GetFull() == nil {
		t.Errorf("a failed Forget should trigger a full snapshot, last message %v", msgs[len(msgs)-1])
	}
	// The engine lets go of the pod before the client has read the retry's answer: the
	// bookkeeping empties a moment later.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.client.pending.Lock()
		toForget, assumed := len(h.client.toForget), len(h.client.assumed)
		if toForget == 0 && assumed == 0 {
			h.client.pending.Unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("client bookkeeping not empty after 5 s: toForget %v assumed %v", h.client.toForget, h.client.assumed)
			h.client.pending.Unlock()
			break
		}
		h.client.pending.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueueDropsWhileOff(t *testing.T) {
	q := changeQueue{notify: make(chan struct{}, 1)}
	q.push(deleteChange(sextantv1.ObjectRef_NODE, "", "a"))
	if q.popBatch(maxDeltaChanges, maxDeltaBytes) != nil {
		t.Fatal("a queue that is off must drop changes")
	}
	q.reset(true)
	for _, n := range []string{"a", "b", "c"} {
		q.push(deleteChange(sextantv1.ObjectRef_NODE, "", n))
	}
	var got []string
	for _, c := range q.popBatch(maxDeltaChanges, maxDeltaBytes) {
		got = append(got, c.GetDelete().Name)
	}
	if !sort.StringsAreSorted(got) || len(got) != 3 {
		t.Errorf("queue order = %v, want a b c", got)
	}
}

// TestQueueBatchBounds: a batch takes the oldest changes in order, at most maxChanges of them and
// no more bytes than maxBytes, but always one, however large.
func TestQueueBatchBounds(t *testing.T) {
	q := changeQueue{notify: make(chan struct{}, 1)}
	q.reset(true)
	names := func(batch []*sextantv1.Change) []string {
		var out []string
		for _, c := range batch {
			out = append(out, c.GetDelete().Name)
		}
		return out
	}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		q.push(deleteChange(sextantv1.ObjectRef_NODE, "", n))
	}
	if got := names(q.popBatch(2, maxDeltaBytes)); fmt.Sprint(got) != "[a b]" {
		t.Errorf("first batch of at most 2 = %v, want [a b]", got)
	}
	one := proto.Size(deleteChange(sextantv1.ObjectRef_NODE, "", "c"))
	if got := names(q.popBatch(10, 2*one)); fmt.Sprint(got) != "[c d]" {
		t.Errorf("batch of at most two changes' bytes = %v, want [c d]", got)
	}
	if got := names(q.popBatch(10, 1)); fmt.Sprint(got) != "[e]" {
		t.Errorf("a change larger than the byte bound = %v, want it alone", got)
	}
	if got := q.popBatch(10, maxDeltaBytes); got != nil {
		t.Errorf("empty queue gave %v", names(got))
	}
}

func TestNewValidatesOptions(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	for _, o := range []Options{{Timeout: time.Second}, {Address: "unix:///x", Timeout: 0}} {
		if _, err := New(o, factory, ktesting.NewLogger(t, ktesting.NewConfig())); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", o)
		}
	}
}

func namespace(name string, labels map[string]string) *v1.Namespace {
	return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// TestSyncNamespaces: namespaces are in the full snapshot (after the other kinds, by name) and
// every add, label change and delete is one ordered delta, like nodes.
func TestSyncNamespaces(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{
		node("n1"), namespace("team-b", map[string]string{"team": "b"}), namespace("team-a", nil), pod("team-a", "p", ""),
	}})
	full := h.messages()[0].GetFull()
	if diff := cmp.Diff([]string{"NODE//n1", "POD/team-a/p", "NAMESPACE//team-a", "NAMESPACE//team-b"}, keysOf(full)); diff != "" {
		t.Errorf("snapshot objects (-want +got):\n%s", diff)
	}
	if got := full.Objects[3].GetUpsertNamespace(); got.GetLabels()["team"] != "b" {
		t.Errorf("team-b sent as %v, want its labels", got)
	}
	ctx := context.Background()
	nss := h.cs.CoreV1().Namespaces()
	teamA := namespace("team-a", nil)
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"add", func() error {
			_, err := nss.Create(ctx, namespace("team-c", map[string]string{"env": "prod"}), metav1.CreateOptions{})
			return err
		}, "NAMESPACE//team-c"},
		{"label", func() error {
			teamA.Labels = map[string]string{"team": "a"}
			_, err := nss.Update(ctx, teamA, metav1.UpdateOptions{})
			return err
		}, "NAMESPACE//team-a"},
		// An annotation is not sent: the next delta is the next step's.
		{"annotate (no delta) then delete", func() error {
			teamA.Annotations = map[string]string{"note": "x"}
			if _, err := nss.Update(ctx, teamA, metav1.UpdateOptions{}); err != nil {
				return err
			}
			return nss.Delete(ctx, "team-b", metav1.DeleteOptions{})
		}, "-NAMESPACE//team-b"},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("step %q: %v", step.name, err)
		}
		msgs := h.waitMessages(i + 2)
		if len(msgs) != i+2 {
			t.Fatalf("step %q: engine has %d messages, want %d", step.name, len(msgs), i+2)
		}
		d := deltaOf(t, msgs[i+1])
		if d.Sequence != uint64(i+2) || len(d.Changes) != 1 {
			t.Fatalf("step %q: delta %v, want sequence %d with one change", step.name, d, i+2)
		}
		got := enginetest.ObjectKey(d.Changes[0])
		if del := d.Changes[0].GetDelete(); del != nil {
			got = "-" + got
			if del.Namespace != "" || del.Name != "team-b" {
				t.Errorf("delete names namespace %q name %q, want \"\" and team-b", del.Namespace, del.Name)
			}
		}
		if got != step.want {
			t.Errorf("step %q: delta changes %s, want %s", step.name, got, step.want)
		}
	}
	if got := deltaOf(t, h.messages()[2]).Changes[0].GetUpsertNamespace().GetLabels(); got["team"] != "a" {
		t.Errorf("the label delta carries %v", got)
	}
	h.expectEngineMatchesCluster()
}
