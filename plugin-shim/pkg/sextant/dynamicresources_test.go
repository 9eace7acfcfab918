package sextant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	resourcelisters "k8s.io/client-go/listers/resource/v1"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

var claimsResource = schema.GroupVersionResource{Group: "resource.k8s.io", Version: "v1", Resource: "resourceclaims"}

func opaque(driver, params string) resourceapi.DeviceConfiguration {
	return resourceapi.DeviceConfiguration{Opaque: &resourceapi.OpaqueDeviceConfiguration{
		Driver: driver, Parameters: runtime.RawExtension{Raw: []byte(params)},
	}}
}

func gpuClass(configs ...string) *resourceapi.DeviceClass {
	c := &resourceapi.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu.example.com"}}
	for _, p := range configs {
		c.Spec.Config = append(c.Spec.Config, resourceapi.DeviceClassConfiguration{DeviceConfiguration: opaque("gpu.example.com", p)})
	}
	return c
}

// gpuClaim is a claim for two GPUs with a matchAttribute constraint.
func gpuClaim(name string) *resourceapi.ResourceClaim {
	return &resourceapi.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{
			Requests: []resourceapi.DeviceRequest{{Name: "gpus", Exactly: &resourceapi.ExactDeviceRequest{
				DeviceClassName: "gpu.example.com", AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 2,
			}}},
			Constraints: []resourceapi.DeviceConstraint{{MatchAttribute: ptr.To[resourceapi.FullyQualifiedName]("gpu.example.com/numa")}},
		}},
	}
}

func engineAllocation(devices ...string) *resourceapi.AllocationResult {
	a := &resourceapi.AllocationResult{NodeSelector: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
		MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}},
	}}}}
	for _, d := range devices {
		a.Devices.Results = append(a.Devices.Results, resourceapi.DeviceRequestAllocationResult{
			Request: "gpus", Driver: "gpu.example.com", Pool: "n1", Device: d,
		})
	}
	return a
}

func claimPod(name string, claims ...string) *v1.Pod {
	p := podOn(name, "", 0)
	for _, c := range claims {
		p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, v1.PodResourceClaim{Name: c, ResourceClaimName: ptr.To(c)})
	}
	return p
}

func reservedFor(pods ...*v1.Pod) []resourceapi.ResourceClaimConsumerReference {
	var out []resourceapi.ResourceClaimConsumerReference
	for _, p := range pods {
		out = append(out, resourceapi.ResourceClaimConsumerReference{Resource: "pods", Name: p.Name, UID: p.UID})
	}
	return out
}

func getClaim(t *testing.T, f *preemptionFixture, name string) *resourceapi.ResourceClaim {
	t.Helper()
	c, err := f.cs.ResourceV1().ResourceClaims("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// claimWrites lists the writes to claims: "update", "update status", "patch status".
func claimWrites(f *preemptionFixture) []string {
	var out []string
	for _, a := range f.cs.Actions() {
		if a.GetResource().Resource != "resourceclaims" || (a.GetVerb() != "update" && a.GetVerb() != "patch") {
			continue
		}
		w := a.GetVerb()
		if a.GetSubresource() != "" {
			w += " " + a.GetSubresource()
		}
		out = append(out, w+" "+nameOf(a))
	}
	return out
}

// reserveAndPreBind runs Reserve (Assume on the fake client) and PreBind on n1, as the
// framework does after PreFilter.
func reserveAndPreBind(t *testing.T, f *preemptionFixture, pod *v1.Pod) (fwk.CycleState, *fwk.Status) {
	t.Helper()
	state := framework.NewCycleState()
	state.Write(evaluationKey, &evaluation{chosen: "n1", nodes: map[string]verdict{"n1": {score: 100}}})
	ctx := context.Background()
	if st := f.pl.Reserve(ctx, state, pod, "n1"); !st.IsSuccess() {
		t.Fatalf("Reserve: %v", st)
	}
	return state, f.pl.PreBind(ctx, state, pod, "n1")
}

func nameOf(a clienttesting.Action) string {
	switch a := a.(type) {
	case clienttesting.UpdateAction:
		if m, err := apimeta.Accessor(a.GetObject()); err == nil {
			return m.GetName()
		}
	case clienttesting.PatchAction:
		return a.GetName()
	}
	return ""
}

// PreBind writes the engine's allocation as upstream's bindClaim: the finalizer by Update, then
// the allocation (devices and node selector from the engine, the class's and the claim's
// configuration, the allocation timestamp) and the pod's reservation by UpdateStatus.
func TestPreBindWritesTheEngineAllocation(t *testing.T) {
	claim := gpuClaim("gpus")
	claim.Spec.Devices.Config = []resourceapi.DeviceClaimConfiguration{{DeviceConfiguration: opaque("gpu.example.com", `{"claim":1}`)}}
	pod := claimPod("web", "gpus")
	client := &fakeClient{allocations: []engineclient.ClaimAllocation{{Namespace: "ns", Name: "gpus", UID: claim.UID, Allocation: engineAllocation("gpu-0", "gpu-1")}}}
	f := newFixture(t, client, testNodes("n1"), pod, claim, gpuClass(`{"class":1}`))

	start := time.Now()
	if _, st := reserveAndPreBind(t, f, pod); !st.IsSuccess() {
		t.Fatalf("PreBind: %v", st)
	}
	if diff := cmp.Diff([]string{"update gpus", "update status gpus"}, claimWrites(f)); diff != "" {
		t.Errorf("claim writes (-want +got):\n%s", diff)
	}
	got := getClaim(t, f, "gpus")
	if diff := cmp.Diff([]string{resourceapi.Finalizer}, got.Finalizers); diff != "" {
		t.Errorf("finalizers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(reservedFor(pod), got.Status.ReservedFor); diff != "" {
		t.Errorf("reservedFor (-want +got):\n%s", diff)
	}
	want := engineAllocation("gpu-0", "gpu-1")
	want.Devices.Config = []resourceapi.DeviceAllocationConfiguration{
		{Source: resourceapi.AllocationConfigSourceClass, DeviceConfiguration: opaque("gpu.example.com", `{"class":1}`)},
		{Source: resourceapi.AllocationConfigSourceClaim, DeviceConfiguration: opaque("gpu.example.com", `{"claim":1}`)},
	}
	if diff := cmp.Diff(want, got.Status.Allocation, cmpopts.IgnoreFields(resourceapi.AllocationResult{}, "AllocationTimestamp")); diff != "" {
		t.Errorf("allocation (-want +got):\n%s", diff)
	}
	if ts := got.Status.Allocation.AllocationTimestamp; ts == nil || ts.Time.Before(start.Truncate(time.Second)) {
		t.Errorf("allocationTimestamp = %v, want the time of the write (binding conditions are on by default)", ts)
	}
	// The written claim is what the shim answers until its informer shows the allocation.
	if c, err := f.pl.dra.claims.Get("ns", "gpus"); err != nil || c.Status.Allocation == nil {
		t.Errorf("claim tracker after PreBind: %v, %v", c, err)
	}
}

// A claim allocated already (shared) only gets the reservation; one reserved for the pod
// already gets nothing.
func TestPreBindReservesAllocatedClaims(t *testing.T) {
	other := claimPod("other", "shared")
	pod := claimPod("web", "shared", "mine")
	shared := gpuClaim("shared")
	shared.Finalizers = []string{resourceapi.Finalizer}
	shared.Status.Allocation = engineAllocation("gpu-2", "gpu-3")
	shared.Status.ReservedFor = reservedFor(other)
	mine := gpuClaim("mine")
	mine.Status.Allocation = engineAllocation("gpu-0", "gpu-1")
	mine.Status.ReservedFor = reservedFor(pod)
	f := newFixture(t, &fakeClient{}, testNodes("n1"), pod, other, shared, mine, gpuClass())

	if _, st := reserveAndPreBind(t, f, pod); !st.IsSuccess() {
		t.Fatalf("PreBind: %v", st)
	}
	if diff := cmp.Diff([]string{"update status shared"}, claimWrites(f)); diff != "" {
		t.Errorf("claim writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(reservedFor(other, pod), getClaim(t, f, "shared").Status.ReservedFor); diff != "" {
		t.Errorf("reservedFor (-want +got):\n%s", diff)
	}
}

// PreBind fails, as upstream's, when the claim cannot take the allocation: it is being deleted,
// another scheduler allocated it meanwhile (seen after a conflict), or it was re-created.
func TestPreBindFailures(t *testing.T) {
	alloc := func(c *resourceapi.ResourceClaim) []engineclient.ClaimAllocation {
		return []engineclient.ClaimAllocation{{Namespace: "ns", Name: c.Name, UID: c.UID, Allocation: engineAllocation("gpu-0", "gpu-1")}}
	}
	for _, tc := range []struct {
		name    string
		claim   func() *resourceapi.ResourceClaim
		allocs  func(*resourceapi.ResourceClaim) []engineclient.ClaimAllocation
		react   func(f *preemptionFixture)
		wantErr string
	}{
		{
			name: "being deleted",
			claim: func() *resourceapi.ResourceClaim {
				c := gpuClaim("gpus")
				c.DeletionTimestamp = ptr.To(metav1.Now())
				c.Finalizers = []string{"x"}
				return c
			},
			allocs: alloc, wantErr: "claim ns/gpus got deleted in the meantime",
		},
		{
			name:   "allocated elsewhere, seen after a conflict",
			claim:  func() *resourceapi.ResourceClaim { return gpuClaim("gpus") },
			allocs: alloc,
			react: func(f *preemptionFixture) {
				f.cs.PrependReactor("update", "resourceclaims", func(a clienttesting.Action) (bool, runtime.Object, error) {
					if a.GetSubresource() != "status" {
						return false, nil, nil
					}
					obj, _ := f.cs.Tracker().Get(claimsResource, "ns", "gpus")
					c := obj.(*resourceapi.ResourceClaim).DeepCopy()
					c.Status.Allocation = engineAllocation("gpu-2", "gpu-3")
					_ = f.cs.Tracker().Update(claimsResource, c, "ns")
					return true, nil, apierrors.NewConflict(claimsResource.GroupResource(), "gpus", errors.New("changed"))
				})
			},
			wantErr: "claim ns/gpus got allocated elsewhere in the meantime",
		},
		{
			name:  "re-created since the engine allocated it",
			claim: func() *resourceapi.ResourceClaim { return gpuClaim("gpus") },
			allocs: func(c *resourceapi.ResourceClaim) []engineclient.ClaimAllocation {
				a := alloc(c)
				a[0].UID = "old-uid"
				return a
			},
			wantErr: "claim ns/gpus was replaced since the Sextant engine allocated it",
		},
		{
			name:    "unallocated without an engine allocation",
			claim:   func() *resourceapi.ResourceClaim { return gpuClaim("gpus") },
			allocs:  func(*resourceapi.ResourceClaim) []engineclient.ClaimAllocation { return nil },
			wantErr: "claim ns/gpus got deallocated elsewhere in the meantime",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claim := tc.claim()
			pod := claimPod("web", "gpus")
			f := newFixture(t, &fakeClient{allocations: tc.allocs(claim)}, testNodes("n1"), pod, claim, gpuClass())
			if tc.react != nil {
				tc.react(f)
			}
			_, st := reserveAndPreBind(t, f, pod)
			if st.Code() != fwk.Error || !strings.Contains(st.Message(), tc.wantErr) {
				t.Errorf("PreBind = %v, want an Error containing %q", st, tc.wantErr)
			}
		})
	}
}

// A conflict is retried with a fresh claim, as upstream's RetryOnConflict.
func TestPreBindRetriesOnConflict(t *testing.T) {
	claim := gpuClaim("gpus")
	pod := claimPod("web", "gpus")
	client := &fakeClient{allocations: []engineclient.ClaimAllocation{{Namespace: "ns", Name: "gpus", UID: claim.UID, Allocation: engineAllocation("gpu-0", "gpu-1")}}}
	f := newFixture(t, client, testNodes("n1"), pod, claim, gpuClass())
	conflicts := 1
	f.cs.PrependReactor("update", "resourceclaims", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(claimsResource.GroupResource(), "gpus", errors.New("changed"))
		}
		return false, nil, nil
	})
	if _, st := reserveAndPreBind(t, f, pod); !st.IsSuccess() {
		t.Fatalf("PreBind: %v", st)
	}
	if diff := cmp.Diff([]string{"update gpus", "update status gpus", "update status gpus"}, claimWrites(f)); diff != "" {
		t.Errorf("claim writes (-want +got):\n%s", diff)
	}
	if got := getClaim(t, f, "gpus"); got.Status.Allocation == nil || len(got.Status.ReservedFor) != 1 {
		t.Errorf("claim status after the retry: %+v", got.Status)
	}
}

// With devices that have binding conditions, PreBind waits until they are true; a true failure
// condition or the binding timeout fails it.
func TestPreBindBindingConditions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		conditions []metav1.Condition // set on the device once PreBind waits
		timeout    time.Duration
		wantErr    error
	}{
		{name: "attached", conditions: []metav1.Condition{{Type: "Attached", Status: metav1.ConditionTrue}}},
		{name: "attach failed", conditions: []metav1.Condition{{Type: "AttachFailed", Status: metav1.ConditionTrue, Reason: "NoPath"}}, wantErr: ErrDeviceBindingFailed},
		{name: "never attached", timeout: 300 * time.Millisecond, wantErr: ErrDeviceBindingTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claim := gpuClaim("gpus")
			pod := claimPod("web", "gpus")
			a := engineAllocation("gpu-0", "gpu-1")
			a.Devices.Results[0].BindingConditions = []string{"Attached"}
			a.Devices.Results[0].BindingFailureConditions = []string{"AttachFailed"}
			client := &fakeClient{allocations: []engineclient.ClaimAllocation{{Namespace: "ns", Name: "gpus", UID: claim.UID, Allocation: a}}}
			f := newFixture(t, client, testNodes("n1"), pod, claim, gpuClass())
			f.pl.dra.pollInterval = 10 * time.Millisecond
			if tc.timeout > 0 {
				f.pl.dra.bindingTimeout = tc.timeout
			}
			if tc.conditions != nil {
				go func() {
					// The driver reports the device's conditions once the allocation is written.
					ctx := context.Background()
					for {
						c, err := f.cs.ResourceV1().ResourceClaims("ns").Get(ctx, "gpus", metav1.GetOptions{})
						if err == nil && c.Status.Allocation != nil {
							c.Status.Devices = []resourceapi.AllocatedDeviceStatus{{Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0", Conditions: tc.conditions}}
							if _, err := f.cs.ResourceV1().ResourceClaims("ns").UpdateStatus(ctx, c, metav1.UpdateOptions{}); err == nil {
								return
							}
						}
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
			_, st := reserveAndPreBind(t, f, pod)
			switch {
			case tc.wantErr == nil && !st.IsSuccess():
				t.Errorf("PreBind = %v, want Success", st)
			case tc.wantErr != nil && (st.Code() != fwk.Error || !errors.Is(st.AsError(), tc.wantErr)):
				t.Errorf("PreBind = %v, want an Error wrapping %v", st, tc.wantErr)
			}
			select {
			case e := <-f.recorder.Events:
				if want := "Normal BindingConditionsPending waiting for binding conditions for device on node n1"; e != want {
					t.Errorf("event %q, want %q", e, want)
				}
			default:
				t.Error("no BindingConditionsPending event")
			}
		})
	}
}

func TestPreBindPreFlight(t *testing.T) {
	pl := NewWithClient(&fakeClient{})
	if _, st := pl.PreBindPreFlight(context.Background(), nil, podOn("plain", "", 0), "n1"); !st.IsSkip() {
		t.Errorf("pod without claims: %v, want Skip", st)
	}
	if _, st := pl.PreBindPreFlight(context.Background(), nil, claimPod("web", "gpus"), "n1"); !st.IsSuccess() {
		t.Errorf("pod with claims: %v, want Success", st)
	}
}

// Unreserve removes the pod from the reservations of its allocated claims with upstream's
// strategic-merge patch, and leaves the others alone.
func TestUnreserveReleasesReservations(t *testing.T) {
	other := claimPod("other", "shared")
	pod := claimPod("web", "shared", "free")
	shared := gpuClaim("shared")
	shared.Status.Allocation = engineAllocation("gpu-0", "gpu-1")
	shared.Status.ReservedFor = reservedFor(other, pod)
	free := gpuClaim("free")
	f := newFixture(t, &fakeClient{}, testNodes("n1"), pod, other, shared, free, gpuClass())

	state := framework.NewCycleState()
	f.pl.Unreserve(context.Background(), state, pod, "n1")
	if diff := cmp.Diff([]string{"patch status shared"}, claimWrites(f)); diff != "" {
		t.Errorf("claim writes (-want +got):\n%s", diff)
	}
	for _, a := range f.cs.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			want := `{"metadata": {"uid": "uid-shared"}, "status": { "reservedFor": [ {"$patch": "delete", "uid": "uid-web"} ] }}`
			if string(p.GetPatch()) != want || p.GetPatchType() != types.StrategicMergePatchType {
				t.Errorf("patch %s %s, want upstream's %s", p.GetPatchType(), p.GetPatch(), want)
			}
		}
	}
	if diff := cmp.Diff(reservedFor(other), getClaim(t, f, "shared").Status.ReservedFor); diff != "" {
		t.Errorf("reservedFor after Unreserve (-want +got):\n%s", diff)
	}
}

// After a PreBind that wrote the claim, Unreserve works with the claim as written (the informer
// may not show it yet): Forget on the engine, then the reservation is removed.
func TestUnreserveAfterPreBind(t *testing.T) {
	claim := gpuClaim("gpus")
	pod := claimPod("web", "gpus")
	client := &fakeClient{allocations: []engineclient.ClaimAllocation{{Namespace: "ns", Name: "gpus", UID: claim.UID, Allocation: engineAllocation("gpu-0", "gpu-1")}}}
	f := newFixture(t, client, testNodes("n1"), pod, claim, gpuClass())
	state, st := reserveAndPreBind(t, f, pod)
	if !st.IsSuccess() {
		t.Fatalf("PreBind: %v", st)
	}
	f.pl.Unreserve(context.Background(), state, pod, "n1")
	if diff := cmp.Diff([]string{"ns/web"}, client.forgotten); diff != "" {
		t.Errorf("Forget calls (-want +got):\n%s", diff)
	}
	got := getClaim(t, f, "gpus")
	if len(got.Status.ReservedFor) != 0 || got.Status.Allocation == nil {
		t.Errorf("claim after Unreserve: reservedFor %v, allocation %v; want no reservation, the allocation kept (as upstream)",
			got.Status.ReservedFor, got.Status.Allocation)
	}
}

// PostFilter deallocates an allocated claim the engine reports unreachable and no other pod
// holds, before preemption, as upstream's DynamicResources PostFilter before DefaultPreemption.
func TestPostFilterDeallocatesUnavailableClaim(t *testing.T) {
	nodes := testNodes("n1", "n2", "n3")
	preemptMsg := "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
	for _, tc := range []struct {
		name        string
		reserved    func(pod, other *v1.Pod) []resourceapi.ResourceClaimConsumerReference
		unavailable []string
		wantWrites  []string
		wantReasons []string
	}{
		{name: "reserved for nobody", reserved: func(_, _ *v1.Pod) []resourceapi.ResourceClaimConsumerReference { return nil },
			unavailable: []string{"ns/gpus"}, wantWrites: []string{"update status gpus"},
			wantReasons: []string{"deallocation of ResourceClaim completed", preemptMsg}},
		{name: "reserved for this pod only", reserved: func(pod, _ *v1.Pod) []resourceapi.ResourceClaimConsumerReference { return reservedFor(pod) },
			unavailable: []string{"ns/gpus"}, wantWrites: []string{"update status gpus"},
			wantReasons: []string{"deallocation of ResourceClaim completed", preemptMsg}},
		{name: "held by another pod", reserved: func(_, other *v1.Pod) []resourceapi.ResourceClaimConsumerReference { return reservedFor(other) },
			unavailable: []string{"ns/gpus"}, wantReasons: []string{preemptMsg}},
		{name: "reachable everywhere", reserved: func(_, _ *v1.Pod) []resourceapi.ResourceClaimConsumerReference { return nil },
			wantReasons: []string{preemptMsg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod, other := claimPod("web", "gpus"), claimPod("other", "gpus")
			claim := gpuClaim("gpus")
			claim.Status.Allocation = engineAllocation("gpu-0", "gpu-1")
			claim.Status.ReservedFor = tc.reserved(pod, other)
			claim.Status.Devices = []resourceapi.AllocatedDeviceStatus{{Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0"}}
			resp := threeNodesFull()
			resp.UnavailableClaims = tc.unavailable
			client := &fakeClient{resp: resp, preemptResp: &sextantv1.PreemptResponse{Message: preemptMsg}}
			f := newFixture(t, client, nodes, pod, other, claim, gpuClass())
			_, status := f.postFilter(t, pod, nodes)
			if status.Code() != fwk.Unschedulable {
				t.Fatalf("PostFilter = %v, want Unschedulable", status)
			}
			if diff := cmp.Diff(tc.wantReasons, status.Reasons()); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWrites, claimWrites(f)); diff != "" {
				t.Errorf("claim writes (-want +got):\n%s", diff)
			}
			if len(client.preemptions) != 1 {
				t.Errorf("Preempt calls = %v, want one (preemption follows the deallocation, as upstream)", client.preemptions)
			}
			if tc.wantWrites != nil {
				got := getClaim(t, f, "gpus")
				if got.Status.Allocation != nil || got.Status.ReservedFor != nil || got.Status.Devices != nil {
					t.Errorf("claim status after deallocation = %+v, want empty", got.Status)
				}
			}
		})
	}
}

// PreEnqueue holds a pod whose claims are not ready for scheduling, with upstream's messages.
func TestPreEnqueueClaims(t *testing.T) {
	owned := func(c *resourceapi.ResourceClaim, owner *v1.Pod) *resourceapi.ResourceClaim {
		c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}}
		return c
	}
	fromTemplate := func(generated string) *v1.Pod {
		p := podOn("web", "", 0)
		p.Spec.ResourceClaims = []v1.PodResourceClaim{{Name: "gpus", ResourceClaimTemplateName: ptr.To("two-gpus")}}
		if generated != "" {
			p.Status.ResourceClaimStatuses = []v1.PodResourceClaimStatus{{Name: "gpus", ResourceClaimName: ptr.To(generated)}}
		}
		return p
	}
	deleting := gpuClaim("gpus")
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	deleting.Finalizers = []string{resourceapi.Finalizer}
	for _, tc := range []struct {
		name   string
		pod    *v1.Pod
		claims []*resourceapi.ResourceClaim
		want   string // "": admitted
	}{
		{name: "no claims", pod: podOn("web", "", 0)},
		{name: "claim exists", pod: claimPod("web", "gpus"), claims: []*resourceapi.ResourceClaim{gpuClaim("gpus")}},
		{name: "claim missing", pod: claimPod("web", "gpus"), want: `could not find ResourceClaim "ns/gpus"`},
		{name: "claim being deleted", pod: claimPod("web", "gpus"), claims: []*resourceapi.ResourceClaim{deleting}, want: `resourceclaim "gpus" is being deleted`},
		{name: "template claim not generated yet", pod: fromTemplate(""), want: `pod "ns/web": ResourceClaim not created yet`},
		{name: "template claim not needed", pod: func() *v1.Pod {
			p := fromTemplate("")
			p.Status.ResourceClaimStatuses = []v1.PodResourceClaimStatus{{Name: "gpus"}}
			return p
		}()},
		{name: "template claim owned by the pod", pod: fromTemplate("web-gpus-1"),
			claims: []*resourceapi.ResourceClaim{owned(gpuClaim("web-gpus-1"), podOn("web", "", 0))}},
		{name: "template claim owned by another pod", pod: fromTemplate("web-gpus-1"),
			claims: []*resourceapi.ResourceClaim{owned(gpuClaim("web-gpus-1"), podOn("old", "", 0))},
			want:   "ResourceClaim ns/web-gpus-1 was not created for Pod ns/web (Pod is not owner)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objects := []runtime.Object{tc.pod}
			for _, c := range tc.claims {
				objects = append(objects, c)
			}
			f := newFixture(t, &fakeClient{}, testNodes("n1"), objects...)
			st := f.pl.PreEnqueue(context.Background(), tc.pod)
			if tc.want == "" {
				if !st.IsSuccess() {
					t.Errorf("PreEnqueue = %v, want the pod admitted", st)
				}
				return
			}
			if st.Code() != fwk.UnschedulableAndUnresolvable || st.Message() != tc.want {
				t.Errorf("PreEnqueue = %v %q, want UnschedulableAndUnresolvable %q", st.Code(), st.Message(), tc.want)
			}
		})
	}
}

// A pod the engine rejected is retried on every kind of event the scheduler knows, including
// ResourceSlices (new devices), which the framework's default for plugins without
// EnqueueExtensions leaves out.
func TestEventsToRegister(t *testing.T) {
	events, err := NewWithClient(&fakeClient{}).EventsToRegister(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := map[fwk.EventResource]fwk.ActionType{}
	for _, e := range events {
		all[e.Event.Resource] |= e.Event.ActionType
		if e.QueueingHintFn != nil {
			t.Errorf("%v has a queueing hint; every event must requeue", e.Event)
		}
	}
	for _, r := range []fwk.EventResource{fwk.Node, fwk.AssignedPod, fwk.UnscheduledPod, fwk.TargetPod,
		fwk.ResourceSlice, fwk.ResourceClaim, fwk.DeviceClass} {
		if all[r] != fwk.All {
			t.Errorf("%s events registered: %v, want all", r, all[r])
		}
	}
}

// withConfig assembles the configuration as upstream's allocator: class configs once per class
// for every (sub)request of that class, claim configs that name a chosen (sub)request or none,
// and no request list on a config that applies to every request.
func TestWithConfig(t *testing.T) {
	store := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	gpu := gpuClass(`{"g":1}`)
	nic := &resourceapi.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "nic.example.com"}, Spec: resourceapi.DeviceClassSpec{
		Config: []resourceapi.DeviceClassConfiguration{{DeviceConfiguration: opaque("nic.example.com", `{"n":1}`)}},
	}}
	_ = store.Add(gpu)
	_ = store.Add(nic)
	d := &dra{classes: resourcelisters.NewDeviceClassLister(store)}
	claim := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"}, Spec: resourceapi.ResourceClaimSpec{
		Devices: resourceapi.DeviceClaim{
			Requests: []resourceapi.DeviceRequest{
				{Name: "a", Exactly: &resourceapi.ExactDeviceRequest{DeviceClassName: "gpu.example.com"}},
				{Name: "b", Exactly: &resourceapi.ExactDeviceRequest{DeviceClassName: "gpu.example.com"}},
				{Name: "net", FirstAvailable: []resourceapi.DeviceSubRequest{
					{Name: "fast", DeviceClassName: "nic.example.com"},
					{Name: "slow", DeviceClassName: "gpu.example.com"},
				}},
			},
			Config: []resourceapi.DeviceClaimConfiguration{
				{Requests: []string{"a"}, DeviceConfiguration: opaque("gpu.example.com", `{"a":1}`)},
				{Requests: []string{"net/fast"}, DeviceConfiguration: opaque("nic.example.com", `{"fast":1}`)},
				{Requests: []string{"net/slow"}, DeviceConfiguration: opaque("gpu.example.com", `{"slow":1}`)},
				{Requests: []string{"a", "b", "net"}, DeviceConfiguration: opaque("gpu.example.com", `{"all":1}`)},
				{DeviceConfiguration: opaque("gpu.example.com", `{"none":1}`)},
			},
		},
	}}
	engine := &resourceapi.AllocationResult{Devices: resourceapi.DeviceAllocationResult{Results: []resourceapi.DeviceRequestAllocationResult{
		{Request: "a", Driver: "gpu.example.com", Pool: "p", Device: "g0"},
		{Request: "b", Driver: "gpu.example.com", Pool: "p", Device: "g1"},
		{Request: "net/slow", Driver: "gpu.example.com", Pool: "p", Device: "g2"},
	}}}
	got, err := d.withConfig(claim, engine)
	if err != nil {
		t.Fatal(err)
	}
	want := []resourceapi.DeviceAllocationConfiguration{
		// The GPU class serves a, b and the chosen subrequest net/slow: every request, so no list.
		{Source: resourceapi.AllocationConfigSourceClass, DeviceConfiguration: opaque("gpu.example.com", `{"g":1}`)},
		{Source: resourceapi.AllocationConfigSourceClaim, Requests: []string{"a"}, DeviceConfiguration: opaque("gpu.example.com", `{"a":1}`)},
		{Source: resourceapi.AllocationConfigSourceClaim, Requests: []string{"net/slow"}, DeviceConfiguration: opaque("gpu.example.com", `{"slow":1}`)},
		{Source: resourceapi.AllocationConfigSourceClaim, DeviceConfiguration: opaque("gpu.example.com", `{"all":1}`)},
		{Source: resourceapi.AllocationConfigSourceClaim, DeviceConfiguration: opaque("gpu.example.com", `{"none":1}`)},
	}
	if diff := cmp.Diff(want, got.Devices.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if len(engine.Devices.Config) != 0 {
		t.Error("withConfig modified the engine's allocation")
	}

	// With the other subrequest chosen, the NIC class's config applies to it alone.
	engine.Devices.Results[2] = resourceapi.DeviceRequestAllocationResult{Request: "net/fast", Driver: "nic.example.com", Pool: "p", Device: "n0"}
	got, err = d.withConfig(claim, engine)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Devices.Config; len(c) < 3 || !cmp.Equal(c[0].Requests, []string{"a", "b"}) || !cmp.Equal(c[1].Requests, []string{"net/fast"}) ||
		c[1].Source != resourceapi.AllocationConfigSourceClass {
		t.Errorf("config with net/fast chosen: %+v", c)
	}

	// A class that is gone fails the write rather than leaving its configuration out.
	_ = store.Delete(nic)
	if _, err := d.withConfig(claim, engine); err == nil || !strings.Contains(err.Error(), "nic.example.com") {
		t.Errorf("withConfig with the class gone: %v", err)
	}
}
