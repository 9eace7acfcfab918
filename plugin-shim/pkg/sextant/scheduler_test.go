package sextant

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	"k8s.io/kubernetes/pkg/scheduler"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// TestSchedulerEndToEnd runs upstream's scheduler with the deploy configuration and the real
// plugin (New, the gRPC client and the Sync loop) against a fake engine on a unix socket: the
// pod the engine places is bound to the engine's choice, the FailedScheduling event of a pod that
// fits nowhere carries the engine's reasons, and with the engine gone pods fail closed.
func TestSchedulerEndToEnd(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	engine := enginetest.New()
	address := engine.ServeUnix(t, filepath.Join(t.TempDir(), "e.sock"))
	engine.With(func(f *enginetest.FakeEngine) {
		f.EvaluateFunc = func(req *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			resp := &sextantv1.EvaluateResponse{Epoch: req.Epoch, AppliedSequence: req.MinSequence,
				Reasons: []string{"Insufficient cpu", "node(s) had untolerated taint {gpu: true}"}}
			switch req.Pod.Name {
			case "fits":
				resp.Nodes = []*sextantv1.NodeResult{
					{Node: "n1", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
					{Node: "n2", Code: sextantv1.FilterCode_SUCCESS, Score: 50},
					{Node: "n3", Code: sextantv1.FilterCode_SUCCESS, Score: 50},
				}
				resp.FeasibleNodes, resp.ChosenNode = 2, "n3"
			default:
				resp.Nodes = []*sextantv1.NodeResult{
					{Node: "n1", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
					{Node: "n2", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, ReasonIds: []uint32{1}},
					{Node: "n3", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
				}
			}
			return resp, nil
		}
	})

	cluster := startScheduler(t, ctx, address, testNodeObjects("4")...)
	engine.WaitFor(t, "the plugin's first snapshot", func(f *enginetest.FakeEngine) bool { return f.Synced && len(f.Objects) == 3 })
	cluster.createPod("fits")
	if b := cluster.waitBinding(); b != "fits@n3" {
		t.Errorf("binding = %s, want fits@n3 (the engine's choice among equal scores)", b)
	}
	engine.WaitFor(t, "Assume(fits, n3)", func(f *enginetest.FakeEngine) bool {
		return len(f.Assumes) == 1 && f.Assumes[0].Pod.Name == "fits" && f.Assumes[0].Node == "n3"
	})

	cluster.createPod("nofit")
	e := cluster.waitEvent("FailedScheduling")
	want := "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient cpu."
	if !strings.Contains(e, want) {
		t.Errorf("FailedScheduling event %q, want the engine's reasons %q", e, want)
	}

	engine.Stop()
	cluster.createPod("down")
	e = cluster.waitEvent("failing closed")
	if !strings.Contains(e, "FailedScheduling") || !strings.Contains(e, "Sextant engine") {
		t.Errorf("event with the engine gone = %q", e)
	}
	select {
	case b := <-cluster.bindings:
		t.Errorf("unexpected binding %s with the engine unschedulable or gone", b)
	default:
	}
}

// TestSchedulerDRAEndToEnd runs upstream's scheduler with the deploy configuration and the real
// plugin against a fake engine for a pod with a ResourceClaim: the pod waits (PreEnqueue) until
// its claim exists, is retried when a ResourceSlice appears (the plugin's EventsToRegister), and
// is bound after PreBind wrote the engine's allocation, the finalizer and the reservation.
func TestSchedulerDRAEndToEnd(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	engine := enginetest.New()
	address := engine.ServeUnix(t, filepath.Join(t.TempDir(), "e.sock"))
	engine.With(func(f *enginetest.FakeEngine) {
		f.EvaluateFunc = func(req *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
			haveDevices := false
			engine.With(func(f *enginetest.FakeEngine) { haveDevices = f.Objects["RESOURCE_SLICE//n2-gpus"] != nil })
			resp := &sextantv1.EvaluateResponse{Epoch: req.Epoch, AppliedSequence: req.MinSequence,
				Reasons: []string{"cannot allocate all claims"}}
			for _, n := range []string{"n1", "n2", "n3"} {
				r := &sextantv1.NodeResult{Node: n, Code: sextantv1.FilterCode_UNSCHEDULABLE, Plugin: "DynamicResources", ReasonIds: []uint32{0}}
				if n == "n2" && haveDevices {
					r = &sextantv1.NodeResult{Node: n, Code: sextantv1.FilterCode_SUCCESS, Score: 10}
					resp.FeasibleNodes, resp.ChosenNode = 1, n
				}
				resp.Nodes = append(resp.Nodes, r)
			}
			return resp, nil
		}
		// Runs under the fake's lock: reads its objects directly.
		f.AllocateFunc = func(req *sextantv1.AssumeRequest) []*sextantv1.ClaimAllocation {
			c := engine.Objects["RESOURCE_CLAIM/ns/gpus"].GetUpsertResourceClaim()
			if c == nil || c.Allocation != nil {
				return nil
			}
			alloc := &sextantv1.AllocationResult{NodeSelector: &sextantv1.NodeSelector{NodeSelectorTerms: []*sextantv1.NodeSelectorTerm{{
				MatchFields: []*sextantv1.SelectorRequirement{{Key: "metadata.name", Operator: "In", Values: []string{req.Node}}},
			}}}}
			for _, d := range []string{"gpu-0", "gpu-1"} {
				alloc.Devices = append(alloc.Devices, &sextantv1.DeviceRequestAllocationResult{Request: "gpus", Driver: "gpu.example.com", Pool: req.Node, Device: d})
			}
			return []*sextantv1.ClaimAllocation{{Namespace: "ns", Name: "gpus", Uid: c.Uid, Allocation: alloc}}
		}
	})
	cluster := startScheduler(t, ctx, address, append(testNodeObjects("4"), gpuClass())...)
	engine.WaitFor(t, "the plugin's first snapshot", func(f *enginetest.FakeEngine) bool { return f.Synced && len(f.Objects) == 4 })

	pod := claimPod("gpu-pod", "gpus")
	pod.Spec.SchedulerName = "sextant"
	if _, err := cluster.cs.CoreV1().Pods("ns").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	engine.With(func(f *enginetest.FakeEngine) {
		for _, e := range f.Evals {
			if e.Pod.Name == "gpu-pod" {
				t.Errorf("a pod whose claim does not exist was evaluated")
			}
		}
	})

	if _, err := cluster.cs.ResourceV1().ResourceClaims("ns").Create(ctx, gpuClaim("gpus"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if e := cluster.waitEvent("FailedScheduling"); !strings.Contains(e, "3 cannot allocate all claims") {
		t.Errorf("FailedScheduling event %q, want the engine's reason", e)
	}
	slice := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "n2-gpus"}, Spec: resourceapi.ResourceSliceSpec{
		Driver: "gpu.example.com", NodeName: ptr.To("n2"), Pool: resourceapi.ResourcePool{Name: "n2", ResourceSliceCount: 1},
		Devices: []resourceapi.Device{{Name: "gpu-0"}, {Name: "gpu-1"}},
	}}
	if _, err := cluster.cs.ResourceV1().ResourceSlices().Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if b := cluster.waitBinding(); b != "gpu-pod@n2" {
		t.Fatalf("binding = %s, want gpu-pod@n2", b)
	}
	claim, err := cluster.cs.ResourceV1().ResourceClaims("ns").Get(ctx, "gpus", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(claim.Finalizers) != 1 || claim.Finalizers[0] != resourceapi.Finalizer {
		t.Errorf("finalizers = %v", claim.Finalizers)
	}
	a := claim.Status.Allocation
	if a == nil || len(a.Devices.Results) != 2 || a.Devices.Results[0].Pool != "n2" || a.NodeSelector == nil || a.AllocationTimestamp == nil {
		t.Errorf("allocation = %+v, want the engine's two devices on n2 with a node selector and a timestamp", a)
	}
	if r := claim.Status.ReservedFor; len(r) != 1 || r[0].UID != pod.UID || r[0].Resource != "pods" {
		t.Errorf("reservedFor = %+v, want the pod", r)
	}
}

// schedulerCluster is upstream's scheduler with the deploy configuration, run against a fake
// clientset: bindings land in the tracker and are reported on bindings, events go to recorder.
type schedulerCluster struct {
	t        *testing.T
	ctx      context.Context
	cs       *fake.Clientset
	bindings chan string
	recorder *events.FakeRecorder
}

func testNodeObjects(cpu string) []runtime.Object {
	var nodes []runtime.Object
	for _, n := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: n},
			Status: v1.NodeStatus{Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourcePods: resource.MustParse("110")}}})
	}
	return nodes
}

func startScheduler(t *testing.T, ctx context.Context, address string, objects ...runtime.Object) *schedulerCluster {
	t.Helper()
	logger := klog.FromContext(ctx)
	cfg, err := options.LoadConfigFromFile(logger, filepath.Join("..", "..", "config", "sextant-scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	profile := cfg.Profiles[0]
	for i := range profile.PluginConfig {
		if profile.PluginConfig[i].Name == Name {
			profile.PluginConfig[i].Args = &runtime.Unknown{Raw: []byte(fmt.Sprintf(`{"engineAddress": %q, "timeout": "2s"}`, address))}
		}
	}
	cs := fake.NewClientset(objects...)
	bindings := make(chan string, 10)
	podsResource := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	cs.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := action.(clienttesting.CreateAction).GetObject().(*v1.Binding)
		obj, err := cs.Tracker().Get(podsResource, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		p := obj.(*v1.Pod).DeepCopy()
		p.Spec.NodeName = b.Target.Name
		if err := cs.Tracker().Update(podsResource, p, b.Namespace); err != nil {
			return true, nil, err
		}
		bindings <- b.Name + "@" + b.Target.Name
		return true, b, nil
	})
	// Deleting a bound pod is graceful, as with an API server and a kubelet: the pod first gets
	// a deletionTimestamp, and goes away a moment later. (The fake clientset alone removes it at
	// once, which no scheduler sees in a real cluster.)
	cs.PrependReactor("delete", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		d := action.(clienttesting.DeleteAction)
		obj, err := cs.Tracker().Get(podsResource, d.GetNamespace(), d.GetName())
		if err != nil {
			return false, nil, nil
		}
		p := obj.(*v1.Pod).DeepCopy()
		if p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
			return false, nil, nil
		}
		now := metav1.Now()
		p.DeletionTimestamp = &now
		if err := cs.Tracker().Update(podsResource, p, p.Namespace); err != nil {
			return true, nil, err
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = cs.Tracker().Delete(podsResource, p.Namespace, p.Name)
		}()
		return true, nil, nil
	})
	recorder := events.NewFakeRecorder(1000)
	informerFactory := scheduler.NewInformerFactory(cs, 0, nil)
	sched, err := scheduler.New(ctx, cs, informerFactory, nil,
		func(string) events.EventRecorderLogger { return recorder },
		scheduler.WithProfiles(profile),
		scheduler.WithFrameworkOutOfTreeRegistry(frameworkruntime.Registry{Name: New}),
		scheduler.WithPodInitialBackoffSeconds(1), scheduler.WithPodMaxBackoffSeconds(1))
	if err != nil {
		t.Fatal(err)
	}
	informerFactory.Start(ctx.Done())
	informerFactory.WaitForCacheSync(ctx.Done())
	go sched.Run(ctx)
	return &schedulerCluster{t: t, ctx: ctx, cs: cs, bindings: bindings, recorder: recorder}
}

func (c *schedulerCluster) createPod(name string, cpu ...string) {
	c.t.Helper()
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{SchedulerName: "sextant", Containers: []v1.Container{{Name: "c", Image: "i"}}}}
	if len(cpu) > 0 {
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu[0])}
	}
	if _, err := c.cs.CoreV1().Pods("ns").Create(c.ctx, p, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// waitEvent returns the first event containing want.
func (c *schedulerCluster) waitEvent(want string) string {
	c.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-c.recorder.Events:
			if strings.Contains(e, want) {
				return e
			}
		case <-timeout:
			c.t.Fatalf("no event containing %q", want)
			return ""
		}
	}
}

func (c *schedulerCluster) waitBinding() string {
	c.t.Helper()
	select {
	case b := <-c.bindings:
		return b
	case <-time.After(20 * time.Second):
		c.t.Fatal("no pod was bound")
		return ""
	}
}

// TestSchedulerWithRealEngine is TestSchedulerEndToEnd against `sextant serve`: it runs only when
// SEXTANT_ENGINE_BINARY names a built engine.
func TestSchedulerWithRealEngine(t *testing.T) {
	address := enginetest.StartRealEngine(t)
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	objects := testNodeObjects("4")
	objects[2].(*v1.Node).Spec.Taints = []v1.Taint{{Key: "gpu", Value: "true", Effect: v1.TaintEffectNoSchedule}}
	objects[0].(*v1.Node).Status.Allocatable[v1.ResourceCPU] = resource.MustParse("16")
	c := startScheduler(t, ctx, address, objects...)

	// Pods created before the plugin's first snapshot fail closed and are retried after backoff.
	c.createPod("small", "1")
	if b := c.waitBinding(); b != "small@n1" {
		t.Errorf("binding = %s, want small@n1 (LeastAllocated: n1 has the most free cpu, n3 is tainted)", b)
	}
	c.createPod("huge", "64")
	e := c.waitEvent("0/3 nodes are available")
	for _, want := range []string{"FailedScheduling", "Insufficient cpu", "untolerated taint"} {
		if !strings.Contains(e, want) {
			t.Errorf("FailedScheduling event %q lacks %q", e, want)
		}
	}
}
