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
// in-place: the changed node's NodeInfo is updated in place, as the scheduler's cache updates
// its snapshot (UpdateSnapshot copies a changed node into the NodeInfo the snapshot holds), so
// the list is the last one; new-list: it is a new NodeInfo, so every node is looked up by name
// (what a cycle after nodes came or went costs).
func BenchmarkConsistencyGuard5kNodes(b *testing.B) {
	for _, inPlace := range []bool{true, false} {
		name := "new-list"
		if inPlace {
			name = "in-place"
		}
		b.Run(name, func(b *testing.B) { benchConsistencyGuard(b, inPlace) })
	}
}

func benchConsistencyGuard(b *testing.B, inPlace bool) {
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
	// The first node's two states, made once so that the loop times the guard.
	withExtra := nodeInfo(nodes[0], append(append([]*v1.Pod{}, byNode[nodes[0].Name]...), extra)...).(*framework.NodeInfo)
	without := nodeInfo(nodes[0], byNode[nodes[0].Name]...).(*framework.NodeInfo)
	generation := infos[0].GetGeneration()
	setFirst := func(ni *framework.NodeInfo) {
		generation++ // the cache's newer generation
		ni.Generation = generation
		if inPlace {
			*infos[0].(*framework.NodeInfo) = *ni
		} else {
			infos[0] = ni
		}
	}
	addExtra := &sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: PodToProto(extra)}}
	removeExtra := deleteChange(sextantv1.ObjectRef_POD, "bench", "extra")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One node changed since the last cycle (a pod bound and acknowledged), as in a busy cluster.
		if i%2 == 0 {
			setFirst(withExtra)
			c.view.apply(addExtra)
		} else {
			setFirst(without)
			c.view.apply(removeExtra)
		}
		if err := c.AwaitView(ctx, view.View(infos), 0); err != nil {
			b.Fatal(err)
		}
	}
	_ = fmt.Sprint
}

// TestSnapshotViewFollowsTheList: whatever happens between cycles (a NodeInfo updated in place,
// nodes added, removed or reordered, a NodeInfo that lost its node), View's totals and Has are
// those of a view computed from scratch.
func TestSnapshotViewFollowsTheList(t *testing.T) {
	n := func(i int) *v1.Node { return node(fmt.Sprintf("n%d", i)) }
	p := func(name, nodeName string) *v1.Pod { return pod("ns", name, nodeName) }
	infos := []fwk.NodeInfo{nodeInfo(n(0)), nodeInfo(n(1), p("a", "n1")), nodeInfo(n(2))}
	var view SnapshotView
	check := func(step string, list []fwk.NodeInfo) {
		t.Helper()
		var fresh SnapshotView
		got, want := view.View(list), fresh.View(list)
		if got.Nodes != want.Nodes || got.Sum != want.Sum {
			t.Fatalf("%s: view (%d nodes, sum %x), from scratch (%d, %x)", step, got.Nodes, got.Sum, want.Nodes, want.Sum)
		}
		for i := 0; i < 6; i++ {
			name := fmt.Sprintf("n%d", i)
			if got.Has(name) != want.Has(name) {
				t.Fatalf("%s: Has(%s) = %v, from scratch %v", step, name, got.Has(name), want.Has(name))
			}
		}
	}
	check("first list", infos)
	check("same list", infos)
	before := view.View(infos)

	// A pod bound on n2: the scheduler copies the node's new state into the same NodeInfo.
	updated := nodeInfo(n(2), p("b", "n2"))
	updated.(*framework.NodeInfo).Generation = infos[2].GetGeneration() + 1
	*infos[2].(*framework.NodeInfo) = *updated.(*framework.NodeInfo)
	check("pod added in place", infos)
	if after := view.View(infos); after.Sum == before.Sum {
		t.Fatal("the sum did not change with a pod added")
	}

	// n3 added at the front (the node tree's order is not the order nodes came in).
	infos = append([]fwk.NodeInfo{nodeInfo(n(3))}, infos...)
	check("node added", infos)
	// n1 removed, n4 added in its place: same length, other NodeInfos.
	infos[2] = nodeInfo(n(4))
	check("node replaced", infos)
	// Reordered.
	infos[0], infos[3] = infos[3], infos[0]
	check("reordered", infos)
	// A NodeInfo whose node is gone (pods still on it), updated in place.
	gone := framework.NewNodeInfo(p("c", "n0"))
	gone.Generation = infos[1].GetGeneration() + 1
	*infos[1].(*framework.NodeInfo) = *gone
	check("node gone in place", infos)
	// And back.
	back := nodeInfo(n(0), p("c", "n0"))
	back.(*framework.NodeInfo).Generation = gone.Generation + 1
	*infos[1].(*framework.NodeInfo) = *back.(*framework.NodeInfo)
	check("node back in place", infos)
	check("empty list", nil)
	check("list after the empty one", infos)
}
