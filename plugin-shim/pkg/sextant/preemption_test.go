package sextant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	internalqueue "k8s.io/kubernetes/pkg/scheduler/backend/queue"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

func podOn(name, node string, priority int32) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{NodeName: node, SchedulerName: "sextant", Priority: ptr.To(priority),
			Containers: []v1.Container{{Name: "c", Image: "i"}}},
		Status: v1.PodStatus{Phase: v1.PodRunning},
	}
}

type preemptionFixture struct {
	fw       framework.Framework
	pl       *Plugin
	cs       *fake.Clientset
	recorder *events.FakeRecorder
}

// newPreemptionFramework is newFramework with what upstream's preemption executor uses: the pods
// in a fake clientset and a started pod informer, a nominator, an event recorder, waiting pods.
func newPreemptionFramework(t *testing.T, client *fakeClient, nodes []*v1.Node, pods ...*v1.Pod) *preemptionFixture {
	t.Helper()
	objects := make([]runtime.Object, 0, len(pods))
	for _, p := range pods {
		objects = append(objects, p)
	}
	return newFixture(t, client, nodes, objects...)
}

// newFixture builds the profile (with PostFilter and PreBind) over a fake clientset holding
// objects, with started informers; the plugin instance is kept for direct calls.
func newFixture(t *testing.T, client *fakeClient, nodes []*v1.Node, objects ...runtime.Object) *preemptionFixture {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	cs := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	queue := internalqueue.NewSchedulingQueue(nil, factory)
	recorder := events.NewFakeRecorder(100)
	f := &preemptionFixture{cs: cs, recorder: recorder}
	registry := frameworkruntime.Registry{
		queuesort.Name:     queuesort.New,
		defaultbinder.Name: defaultbinder.New,
		Name: func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			pl, err := fakeFactory(client)(ctx, obj, h)
			if err == nil {
				f.pl = pl.(*Plugin)
			}
			return pl, err
		},
	}
	profile := sextantProfile()
	profile.Plugins.PostFilter = config.PluginSet{Enabled: []config.Plugin{{Name: Name}}}
	var bound []*v1.Pod
	for _, o := range objects {
		if p, ok := o.(*v1.Pod); ok && p.Spec.NodeName != "" {
			bound = append(bound, p)
		}
	}
	snapshot := cache.NewSnapshot(bound, nodes)
	fw, err := frameworkruntime.NewFramework(ctx, registry, profile,
		frameworkruntime.WithClientSet(cs),
		frameworkruntime.WithInformerFactory(factory),
		frameworkruntime.WithEventRecorder(recorder),
		frameworkruntime.WithPodNominator(queue),
		frameworkruntime.WithPodActivator(queue),
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithMutableSnapshotLister(snapshot),
		frameworkruntime.WithWaitingPods(frameworkruntime.NewWaitingPodsMap()),
		frameworkruntime.WithPodsInPreBind(frameworkruntime.NewPodsInPreBindMap()))
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	f.fw = fw
	return f
}

// postFilter runs the cycle (a FitError from the engine's verdicts), then PostFilter.
func (f *preemptionFixture) postFilter(t *testing.T, pod *v1.Pod, nodes []*v1.Node) (*fwk.PostFilterResult, *fwk.Status) {
	t.Helper()
	state, _, err := schedule(t, f.fw, pod, nodes)
	fitErr, ok := err.(*framework.FitError)
	if !ok {
		t.Fatalf("schedule error = %v, want a FitError", err)
	}
	return f.fw.RunPostFilterPlugins(context.Background(), state, pod, fitErr.Diagnosis.NodeToStatus)
}

func threeNodesFull() *sextantv1.EvaluateResponse {
	return &sextantv1.EvaluateResponse{
		Reasons: []string{"Insufficient cpu", "node(s) had untolerated taint {gpu: true}"},
		Nodes: []*sextantv1.NodeResult{
			{Node: "n1", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
			{Node: "n2", Code: sextantv1.FilterCode_UNSCHEDULABLE, ReasonIds: []uint32{0}},
			{Node: "n3", Code: sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE, ReasonIds: []uint32{1}},
		},
		FitError: "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient cpu.",
	}
}

func TestPostFilterActuatesTheEngineDecision(t *testing.T) {
	nodes := testNodes("n1", "n2", "n3")
	preemptor := podOn("web", "", 100)
	low1, low2, keep := podOn("low1", "n2", 1), podOn("low2", "n2", 0), podOn("keep", "n2", 50)
	other := podOn("other", "n1", 0)
	client := &fakeClient{resp: threeNodesFull(), preemptResp: &sextantv1.PreemptResponse{
		NominatedNode: "n2", Candidates: 2,
		Victims: []*sextantv1.Victim{
			{Namespace: "ns", Name: "low1", Uid: "uid-low1", Priority: 1},
			{Namespace: "ns", Name: "low2", Uid: "uid-low2", Priority: 0},
		},
		Message: "found a potential placement for pod on node n2, preempting 2 victims",
	}}
	f := newPreemptionFramework(t, client, nodes, preemptor, low1, low2, keep, other)

	result, status := f.postFilter(t, preemptor, nodes)
	if !status.IsSuccess() {
		t.Fatalf("PostFilter status = %v, want Success", status)
	}
	if want := "preemption: found a potential placement for pod on node n2, preempting 2 victims"; status.Message() != want {
		t.Errorf("message = %q, want %q", status.Message(), want)
	}
	if result == nil || result.NominatedNodeName != "n2" || result.NominatingMode != fwk.ModeOverride {
		t.Errorf("result = %+v, want n2 nominated", result)
	}
	if diff := cmp.Diff([]string{"ns/web"}, client.preemptions); diff != "" {
		t.Errorf("Preempt calls (-want +got):\n%s", diff)
	}

	// Asynchronous (SchedulerAsyncPreemption is on by default): wait for the deletions.
	asyncDefault := feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate).EnableAsyncPreemption
	t.Logf("SchedulerAsyncPreemption enabled: %v", asyncDefault)
	waitUntil(t, "both victims deleted", func() bool {
		pods, _ := f.cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
		return len(pods.Items) == 3
	})
	patched, deleted := map[string]bool{}, map[string]bool{}
	for _, a := range f.cs.Actions() {
		switch {
		case a.GetVerb() == "patch" && a.GetSubresource() == "status":
			p := a.(clienttesting.PatchAction)
			body := string(p.GetPatch())
			for _, want := range []string{`"type":"DisruptionTarget"`, `"reason":"PreemptionByScheduler"`, `"status":"True"`} {
				if !strings.Contains(body, want) {
					t.Errorf("status patch of %s = %s, lacks %s", p.GetName(), body, want)
				}
			}
			patched[p.GetName()] = true
		case a.GetVerb() == "delete":
			// Upstream's util.DeletePod: plain DeleteOptions, no UID precondition.
			d := a.(clienttesting.DeleteAction)
			if diff := cmp.Diff(metav1.DeleteOptions{}, d.GetDeleteOptions()); diff != "" {
				t.Errorf("delete of %s options (-upstream's +got):\n%s", d.GetName(), diff)
			}
			deleted[d.GetName()] = true
		}
	}
	if diff := cmp.Diff(map[string]bool{"low1": true, "low2": true}, patched); diff != "" {
		t.Errorf("status patches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"low1": true, "low2": true}, deleted); diff != "" {
		t.Errorf("deletes (-want +got):\n%s", diff)
	}
	var preempted []string
	for len(preempted) < 2 {
		select {
		case e := <-f.recorder.Events:
			preempted = append(preempted, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("events = %q, want two Preempted events", preempted)
		}
	}
	for _, e := range preempted {
		if want := "Normal Preempted Preempted by pod uid-web on node n2"; e != want {
			t.Errorf("event %q, want %q", e, want)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPostFilterWhenPreemptionCannotHelp(t *testing.T) {
	nodes := testNodes("n1", "n2", "n3")
	for _, tc := range []struct {
		name       string
		resp       *sextantv1.PreemptResponse
		err        error
		wantCode   fwk.Code
		wantMsg    string
		wantResult *fwk.PostFilterResult
	}{{
		name:       "no candidate clears the nomination",
		resp:       &sextantv1.PreemptResponse{Message: "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."},
		wantCode:   fwk.Unschedulable,
		wantMsg:    "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
		wantResult: framework.NewPostFilterResultWithNominatedNode(""),
	}, {
		name:     "not eligible keeps the nomination",
		resp:     &sextantv1.PreemptResponse{Message: "preemption: not eligible due to preemptionPolicy=Never."},
		wantCode: fwk.Unschedulable,
		wantMsg:  "preemption: not eligible due to preemptionPolicy=Never.",
	}, {
		name:     "engine unreachable",
		err:      errors.New("Sextant engine unavailable at unix:///x: connection refused"),
		wantCode: fwk.Error,
		wantMsg:  "preemption: failing closed: Sextant engine unavailable at unix:///x: connection refused",
	}, {
		name:     "nominated without victims is malformed",
		resp:     &sextantv1.PreemptResponse{NominatedNode: "n1"},
		wantCode: fwk.Error,
		wantMsg:  "preemption: failing closed: malformed Preempt answer from the Sextant engine: node n1 nominated without victims",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			client := &fakeClient{resp: threeNodesFull(), preemptResp: tc.resp, preemptErr: tc.err}
			preemptor := podOn("web", "", 100)
			f := newPreemptionFramework(t, client, nodes, preemptor, podOn("low", "n1", 0))
			result, status := f.postFilter(t, preemptor, nodes)
			if status.Code() != tc.wantCode || status.Message() != tc.wantMsg {
				t.Errorf("status = %v %q, want %v %q", status.Code(), status.Message(), tc.wantCode, tc.wantMsg)
			}
			if diff := cmp.Diff(tc.wantResult, result); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			for _, a := range f.cs.Actions() {
				if a.GetVerb() == "delete" || a.GetVerb() == "patch" {
					t.Errorf("unexpected %s of %s", a.GetVerb(), a.GetResource().Resource)
				}
			}
		})
	}
}

func TestPostFilterVictimMissingFromSnapshot(t *testing.T) {
	nodes := testNodes("n1", "n2", "n3")
	client := &fakeClient{resp: threeNodesFull(), preemptResp: &sextantv1.PreemptResponse{
		NominatedNode: "n2", Victims: []*sextantv1.Victim{{Namespace: "ns", Name: "gone", Uid: "uid-gone"}},
	}}
	preemptor := podOn("web", "", 100)
	f := newPreemptionFramework(t, client, nodes, preemptor, podOn("low", "n2", 0))
	result, status := f.postFilter(t, preemptor, nodes)
	// The engine is behind the scheduler's cache: an error (the pod is activated to retry).
	if status.Code() != fwk.Error || result != nil || !strings.Contains(status.Message(), "uid-gone") {
		t.Errorf("PostFilter = %+v, %v; want an Error naming the victim and no result", result, status)
	}
	for _, a := range f.cs.Actions() {
		if a.GetVerb() == "delete" {
			t.Errorf("unexpected delete of %s", a.(clienttesting.DeleteAction).GetName())
		}
	}
}

// TestSchedulerPreemptsWithRealEngine is the seeds' case through upstream's scheduler and
// `sextant serve`: three full nodes of low-priority pods, a high-priority pod arrives, exactly
// one pod is evicted (upstream's node choice: lowest victim priority, fewest victims, then the
// latest start time), and the pod is bound where the victim was.
func TestSchedulerPreemptsWithRealEngine(t *testing.T) {
	address := enginetest.StartRealEngine(t)
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	running := func(name, node string, priority int32, cpu string, started time.Duration) *v1.Pod {
		p := podOn(name, node, priority)
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}
		p.Status.StartTime = &metav1.Time{Time: base.Add(started)}
		return p
	}
	objects := testNodeObjects("4")
	for _, p := range []*v1.Pod{
		running("a", "n1", 5, "2", 0), running("b", "n1", 5, "2", 0), // higher priority victims
		running("c", "n2", 1, "2", 0), running("d", "n2", 1, "2", 10*time.Second), // d: the latest start
		running("e", "n3", 1, "3", 0), running("f", "n3", 1, "1", time.Second), // e is the victim on n3
	} {
		objects = append(objects, p)
	}
	c := startScheduler(t, ctx, address, objects...)
	web := running("web", "", 1000, "2", 0)
	web.Status = v1.PodStatus{}
	if _, err := c.cs.CoreV1().Pods("ns").Create(ctx, web, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := c.waitEvent("Preempted")
	if want := "Preempted by pod uid-web on node n2"; !strings.Contains(e, want) {
		t.Errorf("event %q, want %q", e, want)
	}
	if b := c.waitBinding(); b != "web@n2" {
		t.Errorf("binding = %s, want web@n2", b)
	}
	pods, err := c.cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, p := range pods.Items {
		left = append(left, p.Name)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "e", "f", "web"}, left); diff != "" {
		t.Errorf("pods left (-want +got):\n%s", diff)
	}
}
