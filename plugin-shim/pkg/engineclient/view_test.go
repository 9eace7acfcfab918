package engineclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

func nodeInfo(n *v1.Node, pods ...*v1.Pod) fwk.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(n)
	return ni
}

// TestAwaitViewEngineBehindSchedulerCache reproduces the preemption race deterministically: the
// scheduler's cache has processed a victim's delete (the cycle's snapshot no longer has it), the
// shim's listener of the same informer has not (it is held), so the engine still has the victim.
// The guard must not let the cycle evaluate then; it waits for the delete to be sent and
// acknowledged, and fails with ErrBehind past its bound.
func TestAwaitViewEngineBehindSchedulerCache(t *testing.T) {
	n1, n2 := node("n1"), node("n2")
	a, d := pod("ns", "a", "n1"), pod("ns", "d", "n1")
	h := newHarness(t, harnessOptions{objects: []runtime.Object{n1, n2, a, d}})
	h.expectEngineMatchesCluster()
	var view SnapshotView
	ctx := context.Background()

	// In step: no wait.
	if err := h.client.AwaitView(ctx, view.View([]fwk.NodeInfo{nodeInfo(n1, a, d), nodeInfo(n2)}), 0); err != nil {
		t.Fatalf("engine in step with the snapshot: %v", err)
	}

	// Hold the shim's listener, then delete the victim: the informer's store (and so the
	// scheduler's cache) moves on, the engine does not.
	release := make(chan struct{})
	var once sync.Once
	releaseListener := func() { h.client.beforeEvent.Store(nil); once.Do(func() { close(release) }) }
	hold := func() { <-release }
	h.client.beforeEvent.Store(&hold)
	defer releaseListener()
	if err := h.cs.CoreV1().Pods("ns").Delete(ctx, "d", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the informer's store to drop the victim", func() bool {
		_, err := h.client.pods.Pods("ns").Get("d")
		return err != nil
	})
	snapshot := []fwk.NodeInfo{nodeInfo(n1, a), nodeInfo(n2)} // the scheduler's cache after the delete

	// Still held: the guard refuses past its bound, naming the node.
	err := h.client.AwaitView(ctx, view.View(snapshot), 100*time.Millisecond)
	if !errors.Is(err, ErrBehind) {
		t.Fatalf("AwaitView with the engine behind = %v, want ErrBehind", err)
	}
	if want := "node(s) n1 "; !containsString(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		if _, ok := f.Objects[enginetest.ObjectKey(deleteChange(sextantv1.ObjectRef_POD, "ns", "d"))]; !ok {
			t.Errorf("the engine lost the victim while the shim's listener was held")
		}
	})

	// Released while waiting: the guard returns once the engine acknowledged the delete.
	go func() {
		time.Sleep(50 * time.Millisecond)
		releaseListener()
	}()
	if err := h.client.AwaitView(ctx, view.View(snapshot), 10*time.Second); err != nil {
		t.Fatalf("AwaitView after the listener caught up: %v", err)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		if _, ok := f.Objects[enginetest.ObjectKey(deleteChange(sextantv1.ObjectRef_POD, "ns", "d"))]; ok {
			t.Errorf("AwaitView returned before the engine applied the victim's delete")
		}
	})

	// The scheduler's cache behind the engine (a snapshot that still has the victim, and a node
	// the engine never had): the engine is newer, no wait.
	if err := h.client.AwaitView(ctx, view.View([]fwk.NodeInfo{nodeInfo(n1, a, d), nodeInfo(n2), nodeInfo(node("gone"))}), 0); err != nil {
		t.Fatalf("AwaitView with the engine ahead of the snapshot: %v", err)
	}
}

// TestEngineViewAssumeForget: assumed pods count on their node until bound or forgotten.
func TestEngineViewAssumeForget(t *testing.T) {
	n1 := node("n1")
	p := pod("ns", "p", "")
	h := newHarness(t, harnessOptions{objects: []runtime.Object{n1, p}})
	h.expectEngineMatchesCluster()
	var view SnapshotView
	ctx := context.Background()
	assumedPod := p.DeepCopy()
	assumedPod.Spec.NodeName = "n1"
	if _, err := h.client.Assume(ctx, p, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := h.client.AwaitView(ctx, view.View([]fwk.NodeInfo{nodeInfo(n1, assumedPod)}), 0); err != nil {
		t.Fatalf("after Assume: %v", err)
	}
	if err := h.client.Forget(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := h.client.AwaitView(ctx, view.View([]fwk.NodeInfo{nodeInfo(n1)}), 0); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
}

func containsString(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkConsistencyGuard5kNodes is the guard's cost per cycle in steady state (engine in step,
// snapshot unchanged since the last cycle but for one node): 5,000 nodes, 25,000 pods.
func BenchmarkConsistencyGuard5kNodes(b *testing.B) {
	objects := benchCluster(5000, 25000)
	var changes []*sextantv1.Change
	byNode := map[string][]*v1.Pod{}
	var nodes []*v1.Node
	for _, o := range objects {
		switch x := o.(type) {
		case *v1.Node:
			nodes = append(nodes, x)
			changes = append(changes, &sextantv1.Change{Change: &sextantv1.Change_UpsertNode{UpsertNode: NodeToProto(x)}})
		case *v1.Pod:
			byNode[x.Spec.NodeName] = append(byNode[x.Spec.NodeName], x)
			changes = append(changes, &sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: PodToProto(x)}})
		}
	}
	c := &GRPCClient{synced: true}
	c.view.reset(changes, false)
	infos := make([]fwk.NodeInfo, len(nodes))
	for i, n := range nodes {
		infos[i] = nodeInfo(n, byNode[n.Name]...)
	}
	var view SnapshotView
	ctx := context.Background()
	if err := c.AwaitView(ctx, view.View(infos), 0); err != nil {
		b.Fatal(err)
	}
	extra := benchPod("bench", "extra", nodes[0].Name, 1)
	extra.UID = types.UID("uid-extra")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One node changed since the last cycle (a pod bound and acknowledged), as in a busy cluster.
		if i%2 == 0 {
			infos[0] = nodeInfo(nodes[0], append(append([]*v1.Pod{}, byNode[nodes[0].Name]...), extra)...)
			c.view.apply(&sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: PodToProto(extra)}})
		} else {
			infos[0] = nodeInfo(nodes[0], byNode[nodes[0].Name]...)
			c.view.apply(deleteChange(sextantv1.ObjectRef_POD, "bench", "extra"))
		}
		if err := c.AwaitView(ctx, view.View(infos), 0); err != nil {
			b.Fatal(err)
		}
	}
	_ = fmt.Sprint
}
