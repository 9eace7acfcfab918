package engineclient

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// TestRealEngine syncs a small cluster into a real `sextant serve` through the real client and
// checks the engine's placement. It runs only when SEXTANT_ENGINE_BINARY names a built `sextant`.
func TestRealEngine(t *testing.T) {
	address := enginetest.StartRealEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// Cleanups run last-registered first: the client stops before the engine is interrupted.
	t.Cleanup(func() { cancel(); <-done })

	mkNode := func(name, cpu string, taints ...v1.Taint) *v1.Node {
		return &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}, CreationTimestamp: metav1.Now()},
			Spec:       v1.NodeSpec{Taints: taints},
			Status: v1.NodeStatus{
				Capacity:    rl("cpu", cpu, "memory", "16Gi", "pods", "110"),
				Allocatable: rl("cpu", cpu, "memory", "16Gi", "pods", "110"),
			},
		}
	}
	mkPod := func(name, nodeName, cpu string) *v1.Pod {
		phase := v1.PodPending
		if nodeName != "" {
			phase = v1.PodRunning
		}
		return &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.Now()},
			Spec: v1.PodSpec{NodeName: nodeName, SchedulerName: "sextant", Containers: []v1.Container{{Name: "c",
				Resources: v1.ResourceRequirements{Requests: rl("cpu", cpu, "memory", "1Gi")}}}},
			Status: v1.PodStatus{Phase: phase},
		}
	}
	cs := fake.NewClientset([]runtime.Object{
		mkNode("n1", "5"),
		mkNode("n2", "8"),
		mkNode("n3", "8", v1.Taint{Key: "gpu", Value: "true", Effect: v1.TaintEffectNoSchedule}),
		mkPod("running", "n2", "1"),
		mkPod("busy", "n1", "2"), // n1 has 3 of 5 cpus free: short for 4, but preemption could help
	}...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	logger, _ := ktesting.NewTestContext(t)
	client, err := New(Options{Address: address, Timeout: 2 * time.Second}, factory, logger)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	go func() {
		client.Run(ctx)
		close(done)
	}()
	waitFor(t, "the engine to acknowledge the snapshot", func() bool { synced, _, _ := client.Synced(); return synced })

	pending := mkPod("pending", "", "4")
	resp, err := client.Evaluate(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ChosenNode != "n2" {
		t.Errorf("chosen node = %q, want n2 (n1 lacks free cpu, n3 is tainted); answer %v", resp.ChosenNode, resp)
	}
	for _, n := range resp.Nodes {
		var reasons []string
		for _, id := range n.ReasonIds {
			reasons = append(reasons, resp.Reasons[id])
		}
		switch n.Node {
		case "n1":
			if n.Code != sextantv1.FilterCode_UNSCHEDULABLE || !strings.Contains(strings.Join(reasons, ","), "Insufficient cpu") {
				t.Errorf("n1: %v %v, want Unschedulable with Insufficient cpu", n.Code, reasons)
			}
		case "n3":
			if n.Code != sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE || !strings.Contains(strings.Join(reasons, ","), "taint") {
				t.Errorf("n3: %v %v, want UnschedulableAndUnresolvable with a taint", n.Code, reasons)
			}
		}
	}

	// A delta: a larger node joins; LeastAllocated now prefers it, and the answer must reflect it.
	if _, err := cs.CoreV1().Nodes().Create(ctx, mkNode("n4", "32"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delta to be sent", func() bool { _, _, seq := client.Synced(); return seq >= 2 })
	resp, err = client.Evaluate(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ChosenNode != "n4" || resp.AppliedSequence < 2 {
		t.Errorf("after adding n4: chosen %q at sequence %d, want n4 at 2 or later", resp.ChosenNode, resp.AppliedSequence)
	}
	if _, err := client.Assume(ctx, pending, resp.ChosenNode); err != nil {
		t.Fatalf("Assume: %v", err)
	}
	if err := client.Forget(ctx, pending); err != nil {
		t.Fatalf("Forget: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
