package engineclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	resourcelisters "k8s.io/client-go/listers/resource/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

func claim(ns, name, uid, rv string) *resourceapi.ResourceClaim {
	return &resourceapi.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), ResourceVersion: rv},
		Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{Requests: []resourceapi.DeviceRequest{{
			Name: "gpus", Exactly: &resourceapi.ExactDeviceRequest{DeviceClassName: "gpu.example.com", Count: 2},
		}}}},
	}
}

func allocation(devices ...string) *resourceapi.AllocationResult {
	a := &resourceapi.AllocationResult{}
	for _, d := range devices {
		a.Devices.Results = append(a.Devices.Results, resourceapi.DeviceRequestAllocationResult{
			Request: "gpus", Driver: "gpu.example.com", Pool: "n1", Device: d,
		})
	}
	return a
}

func allocated(c *resourceapi.ResourceClaim, rv string, devices ...string) *resourceapi.ResourceClaim {
	c = c.DeepCopy()
	c.ResourceVersion = rv
	c.Status.Allocation = allocation(devices...)
	c.Status.ReservedFor = []resourceapi.ResourceClaimConsumerReference{{Resource: "pods", Name: "p", UID: "uid-p"}}
	return c
}

func trackerWith(claims ...*resourceapi.ResourceClaim) (*ClaimTracker, cache.Indexer) {
	store := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, c := range claims {
		_ = store.Add(c)
	}
	return NewClaimTracker(resourcelisters.NewResourceClaimLister(store)), store
}

func TestClaimTrackerNotFound(t *testing.T) {
	tr, _ := trackerWith()
	_, err := tr.Get("ns", "gone")
	if err == nil || err.Error() != `could not find ResourceClaim "ns/gone"` {
		t.Errorf("Get of a missing claim: %v, want upstream's assume cache message", err)
	}
}

// A written allocation is what Get answers until the informer's version supersedes it: the
// informer shows an allocation, a version at least as new, or another object of the same name.
func TestClaimTrackerWrittenOverlay(t *testing.T) {
	base := claim("ns", "c", "u1", "10")
	written := allocated(base, "12", "gpu-0", "gpu-1")
	for _, tc := range []struct {
		name     string
		informer *resourceapi.ResourceClaim
		want     *resourceapi.ResourceClaim
	}{
		{"informer behind (finalizer update)", func() *resourceapi.ResourceClaim { c := base.DeepCopy(); c.ResourceVersion = "11"; return c }(), written},
		{"informer shows the allocation", allocated(base, "12", "gpu-0", "gpu-1"), nil},
		{"informer newer without allocation (deallocated since)", func() *resourceapi.ResourceClaim { c := base.DeepCopy(); c.ResourceVersion = "13"; return c }(), nil},
		{"claim re-created under the same name", claim("ns", "c", "u2", "20"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := trackerWith(tc.informer)
			tr.AssumeWritten(written)
			want := tc.want
			if want == nil {
				want = tc.informer
			}
			got, err := tr.Get("ns", "c")
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Get = %s (rv %s), want rv %s", got.UID, got.ResourceVersion, want.ResourceVersion)
			}
			if fe := tr.forEngine(tc.informer); fe != want {
				t.Errorf("forEngine = rv %s, want rv %s", fe.ResourceVersion, want.ResourceVersion)
			}
			if tc.want == nil && overlayCount(tr) != 0 {
				t.Errorf("superseded overlay kept: %v", tr.overlays)
			}
		})
	}
}

// A pending allocation (Assume, not yet written) is sent to the engine but not answered by Get;
// Forget drops it and has the informer's version sent again; a written one survives Forget.
func TestClaimTrackerPendingOverlay(t *testing.T) {
	base := claim("ns", "c", "u1", "10")
	tr, _ := trackerWith(base)
	var restored []string
	tr.onRestore = func(ns, name string) { restored = append(restored, ns+"/"+name) }
	tr.assumePending(ClaimAllocation{Namespace: "ns", Name: "c", UID: "u1", Allocation: allocation("gpu-3")})

	if got, _ := tr.Get("ns", "c"); got != base {
		t.Errorf("Get answers the pending allocation; it must answer the API's version")
	}
	fe := tr.forEngine(base)
	if fe == base || fe.Status.Allocation == nil || fe.Status.Allocation.Devices.Results[0].Device != "gpu-3" || len(fe.Status.ReservedFor) != 0 {
		t.Errorf("forEngine = %+v, want the informer's claim with the pending allocation and no reservation", fe.Status)
	}
	if base.Status.Allocation != nil {
		t.Error("forEngine modified the informer's object")
	}
	tr.forget("ns", "c")
	if diff := cmp.Diff([]string{"ns/c"}, restored); diff != "" {
		t.Errorf("restored (-want +got):\n%s", diff)
	}
	if fe := tr.forEngine(base); fe != base {
		t.Error("a forgotten pending allocation is still sent")
	}

	tr.assumePending(ClaimAllocation{Namespace: "ns", Name: "c", UID: "u1", Allocation: allocation("gpu-3")})
	tr.AssumeWritten(allocated(base, "12", "gpu-3"))
	tr.forget("ns", "c")
	if got, _ := tr.Get("ns", "c"); got.ResourceVersion != "12" {
		t.Errorf("Forget dropped a written allocation (the API server has it): Get = rv %s", got.ResourceVersion)
	}
	if len(restored) != 1 {
		t.Errorf("Forget of a written allocation restored: %v", restored)
	}
}

func deviceClass(name string) *resourceapi.DeviceClass {
	return &resourceapi.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: resourceapi.DeviceClassSpec{
		Selectors: []resourceapi.DeviceSelector{{CEL: &resourceapi.CELDeviceSelector{Expression: `device.driver == "` + name + `"`}}},
	}}
}

func resourceSlice(name, node string, devices ...string) *resourceapi.ResourceSlice {
	s := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: resourceapi.ResourceSliceSpec{
		Driver: "gpu.example.com", NodeName: ptr.To(node),
		Pool: resourceapi.ResourcePool{Name: node, Generation: 1, ResourceSliceCount: 1},
	}}
	for _, d := range devices {
		s.Spec.Devices = append(s.Spec.Devices, resourceapi.Device{Name: d, Attributes: map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{
			"model": {StringValue: ptr.To("H100")},
		}})
	}
	return s
}

// TestSyncDRAObjects: device classes, resource slices and resource claims are in the full
// snapshot (after the other kinds, by key) and every change is one ordered delta.
func TestSyncDRAObjects(t *testing.T) {
	h := newHarness(t, harnessOptions{objects: []runtime.Object{
		node("n1"), resourceSlice("n2-gpus", "n2", "gpu-0"), resourceSlice("n1-gpus", "n1", "gpu-0", "gpu-1"),
		deviceClass("gpu.example.com"), claim("ns", "train", "uid-train", ""),
	}})
	full := h.messages()[0].GetFull()
	want := []string{"NODE//n1", "DEVICE_CLASS//gpu.example.com", "RESOURCE_SLICE//n1-gpus", "RESOURCE_SLICE//n2-gpus", "RESOURCE_CLAIM/ns/train"}
	if diff := cmp.Diff(want, keysOf(full)); diff != "" {
		t.Errorf("snapshot objects (-want +got):\n%s", diff)
	}
	ctx := context.Background()
	res := h.cs.ResourceV1()
	slice := resourceSlice("n1-gpus", "n1", "gpu-0", "gpu-1")
	train := claim("ns", "train", "uid-train", "")
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"add class", func() error {
			_, err := res.DeviceClasses().Create(ctx, deviceClass("nic.example.com"), metav1.CreateOptions{})
			return err
		}, "DEVICE_CLASS//nic.example.com"},
		{"slice gets a device", func() error {
			slice.Spec.Devices = append(slice.Spec.Devices, resourceapi.Device{Name: "gpu-2"})
			_, err := res.ResourceSlices().Update(ctx, slice, metav1.UpdateOptions{})
			return err
		}, "RESOURCE_SLICE//n1-gpus"},
		// A label is not sent: the next delta is the next step's.
		{"label slice (no delta) then add claim", func() error {
			slice.Labels = map[string]string{"x": "y"}
			if _, err := res.ResourceSlices().Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
				return err
			}
			_, err := res.ResourceClaims("ns").Create(ctx, claim("ns", "infer", "uid-infer", ""), metav1.CreateOptions{})
			return err
		}, "RESOURCE_CLAIM/ns/infer"},
		{"claim allocated", func() error {
			_, err := res.ResourceClaims("ns").UpdateStatus(ctx, allocated(train, "", "gpu-0"), metav1.UpdateOptions{})
			return err
		}, "RESOURCE_CLAIM/ns/train"},
		{"delete claim", func() error { return res.ResourceClaims("ns").Delete(ctx, "infer", metav1.DeleteOptions{}) }, "-RESOURCE_CLAIM/ns/infer"},
		{"delete slice", func() error { return res.ResourceSlices().Delete(ctx, "n2-gpus", metav1.DeleteOptions{}) }, "-RESOURCE_SLICE//n2-gpus"},
		{"delete class", func() error { return res.DeviceClasses().Delete(ctx, "nic.example.com", metav1.DeleteOptions{}) }, "-DEVICE_CLASS//nic.example.com"},
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
		if d.Changes[0].GetDelete() != nil {
			got = "-" + got
		}
		if got != step.want {
			t.Errorf("step %q: delta changes %s, want %s", step.name, got, step.want)
		}
	}
	if got := deltaOf(t, h.messages()[4]).Changes[0].GetUpsertResourceClaim(); len(got.GetAllocation().GetDevices()) != 1 {
		t.Errorf("the allocation delta carries %v", got)
	}
	h.expectEngineMatchesCluster()
}

func engineClaim(h *harness, key string) *sextantv1.ResourceClaim {
	var out *sextantv1.ResourceClaim
	h.engine.With(func(f *enginetest.FakeEngine) {
		if c := f.Objects["RESOURCE_CLAIM/"+key]; c != nil {
			out = c.GetUpsertResourceClaim()
		}
	})
	return out
}

// TestSyncClaimAllocationsSurviveEngineRestart: the allocations the engine made in Assume, and
// the ones PreBind wrote that the informer does not show yet, are in the snapshot a restarted
// engine gets; Forget sends the informer's version again; the informer's allocation and the
// claim's deletion end the overlay.
func TestSyncClaimAllocationsSurviveEngineRestart(t *testing.T) {
	p := pod("ns", "p", "")
	p.Spec.ResourceClaims = []v1.PodResourceClaim{{Name: "gpus", ResourceClaimName: ptr.To("gpus")}}
	base := claim("ns", "gpus", "uid-gpus", "")
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), p, base}})
	var engine *enginetest.FakeEngine
	engine = h.engine
	// Like the real engine, allocate only a claim it holds unallocated (AllocateFunc runs under the
	// fake's lock).
	engine.With(func(f *enginetest.FakeEngine) {
		f.AllocateFunc = func(req *sextantv1.AssumeRequest) []*sextantv1.ClaimAllocation {
			c := engine.Objects["RESOURCE_CLAIM/ns/gpus"].GetUpsertResourceClaim()
			if c == nil || c.Allocation != nil {
				return nil
			}
			return []*sextantv1.ClaimAllocation{{Namespace: "ns", Name: "gpus", Uid: "uid-gpus", Allocation: allocationToProto(allocation("gpu-1", "gpu-2"))}}
		}
	})
	ctx := context.Background()
	allocs, err := h.client.Assume(ctx, p, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if len(allocs) != 1 || allocs[0].UID != "uid-gpus" || len(allocs[0].Allocation.Devices.Results) != 2 {
		t.Fatalf("Assume allocations = %+v", allocs)
	}

	// Restart: the snapshot has the pending allocation, so the re-assumed pod gets none anew.
	h.engine.Restart()
	h.engine.WaitFor(t, "a snapshot on the restarted engine", func(f *enginetest.FakeEngine) bool { return f.Synced })
	h.waitSynced("the restart")
	if got := engineClaim(h, "ns/gpus"); len(got.GetAllocation().GetDevices()) != 2 || len(got.ReservedFor) != 0 {
		t.Errorf("restarted engine has the claim as %v, want the pending allocation, no reservation", got)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		if last := f.Assumes[len(f.Assumes)-1]; last.Epoch != "epoch-1" || last.Pod.Name != "p" {
			t.Errorf("re-assume = %v", last)
		}
	})

	// Forget: the engine gets the informer's (unallocated) claim again.
	if err := h.client.Forget(ctx, p); err != nil {
		t.Fatal(err)
	}
	h.engine.WaitFor(t, "the claim restored", func(f *enginetest.FakeEngine) bool {
		c := f.Objects["RESOURCE_CLAIM/ns/gpus"].GetUpsertResourceClaim()
		return c != nil && c.Allocation == nil
	})

	// PreBind wrote allocation and reservation; the informer has not seen the write yet.
	written := allocated(base, "999", "gpu-1", "gpu-2")
	h.client.Claims().AssumeWritten(written)
	h.engine.Restart()
	h.engine.WaitFor(t, "a snapshot on the second restarted engine", func(f *enginetest.FakeEngine) bool { return f.Synced })
	h.waitSynced("the second restart")
	if diff := cmp.Diff(ResourceClaimToProto(written), engineClaim(h, "ns/gpus"), protocmp.Transform()); diff != "" {
		t.Errorf("restarted engine's claim (-written +engine):\n%s", diff)
	}

	// The informer shows the allocation: the overlay ends and the informer's version is sent.
	shown := allocated(base, "", "gpu-1", "gpu-2")
	shown.Status.ReservedFor = nil
	if _, err := h.cs.ResourceV1().ResourceClaims("ns").UpdateStatus(ctx, shown, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.engine.WaitFor(t, "the informer's claim", func(f *enginetest.FakeEngine) bool {
		c := f.Objects["RESOURCE_CLAIM/ns/gpus"].GetUpsertResourceClaim()
		return c != nil && c.Allocation != nil && len(c.ReservedFor) == 0
	})
	if n := overlayCount(h.client.Claims()); n != 0 {
		t.Errorf("%d overlays left after the informer showed the allocation", n)
	}

	// A pending allocation of a claim that is deleted goes with it.
	h.client.Claims().assumePending(ClaimAllocation{Namespace: "ns", Name: "gpus", UID: "uid-gpus", Allocation: allocation("gpu-0")})
	if err := h.cs.ResourceV1().ResourceClaims("ns").Delete(ctx, "gpus", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.engine.WaitFor(t, "the claim's delete", func(f *enginetest.FakeEngine) bool { return f.Objects["RESOURCE_CLAIM/ns/gpus"] == nil })
	if n := overlayCount(h.client.Claims()); n != 0 {
		t.Errorf("%d overlays left after the claim's deletion", n)
	}
}

// TestAwaitDRA: for a pod with claims, the guard waits until the engine has acknowledged the
// informers' device classes, resource slices and the pod's claims; while the shim's listener is
// held behind the scheduler's, it refuses past its bound and names what is behind.
func TestAwaitDRA(t *testing.T) {
	p := pod("ns", "p", "")
	p.Spec.ResourceClaims = []v1.PodResourceClaim{{Name: "gpus", ResourceClaimName: ptr.To("gpus")}}
	h := newHarness(t, harnessOptions{objects: []runtime.Object{
		node("n1"), p, deviceClass("gpu.example.com"), resourceSlice("n1-gpus", "n1", "gpu-0"), claim("ns", "gpus", "uid-gpus", ""),
	}})
	ctx := context.Background()
	if err := h.client.AwaitDRA(ctx, p, time.Second); err != nil {
		t.Fatalf("AwaitDRA after the snapshot: %v", err)
	}
	// A pending allocation the engine made is fine: the engine holds it in flight.
	h.client.Claims().assumePending(ClaimAllocation{Namespace: "ns", Name: "gpus", UID: "uid-gpus", Allocation: allocation("gpu-0")})
	if err := h.client.AwaitDRA(ctx, p, time.Second); err != nil {
		t.Fatalf("AwaitDRA with a pending allocation: %v", err)
	}
	h.client.Claims().forget("ns", "gpus")

	for _, tc := range []struct {
		name   string
		change func() error
		stored func() bool // the informer's store has the change
		want   string
	}{
		{"new slice", func() error {
			_, err := h.cs.ResourceV1().ResourceSlices().Create(ctx, resourceSlice("n2-gpus", "n2", "gpu-0"), metav1.CreateOptions{})
			return err
		}, func() bool { _, err := h.client.resourceSlices.Get("n2-gpus"); return err == nil }, "RESOURCE_SLICE//n2-gpus"},
		{"deleted slice", func() error {
			return h.cs.ResourceV1().ResourceSlices().Delete(ctx, "n1-gpus", metav1.DeleteOptions{})
		}, func() bool { _, err := h.client.resourceSlices.Get("n1-gpus"); return err != nil }, "RESOURCE_SLICE//n1-gpus (deleted)"},
		{"the pod's claim allocated", func() error {
			_, err := h.cs.ResourceV1().ResourceClaims("ns").UpdateStatus(ctx, allocated(claim("ns", "gpus", "uid-gpus", ""), "", "gpu-0"), metav1.UpdateOptions{})
			return err
		}, func() bool {
			c, err := h.client.claimLister.ResourceClaims("ns").Get("gpus")
			return err == nil && c.Status.Allocation != nil
		}, "RESOURCE_CLAIM/ns/gpus"},
		{"new class", func() error {
			_, err := h.cs.ResourceV1().DeviceClasses().Create(ctx, deviceClass("nic.example.com"), metav1.CreateOptions{})
			return err
		}, func() bool { _, err := h.client.deviceClasses.Get("nic.example.com"); return err == nil }, "DEVICE_CLASS//nic.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			releaseListener := func() { h.client.beforeEvent.Store(nil); once.Do(func() { close(release) }) }
			hold := func() { <-release }
			h.client.beforeEvent.Store(&hold)
			defer releaseListener()
			if err := tc.change(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the informer's store", tc.stored)
			err := h.client.AwaitDRA(ctx, p, 100*time.Millisecond)
			if !errors.Is(err, ErrBehind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("AwaitDRA while the listener is held = %v, want ErrBehind naming %s", err, tc.want)
			}
			releaseListener()
			if err := h.client.AwaitDRA(ctx, p, 5*time.Second); err != nil {
				t.Errorf("AwaitDRA after the listener caught up: %v", err)
			}
		})
	}
}

func TestDRAHashesPrune(t *testing.T) {
	var h draHashes
	objects := make([]*int, 200)
	for i := range objects {
		objects[i] = new(int)
		key := fmt.Sprintf("RESOURCE_SLICE//s%d", i)
		if got, _ := h.get(objects[i], func() string { return key },
			func() *sextantv1.Change { return deleteChange(sextantv1.ObjectRef_RESOURCE_SLICE, "", key) }); got != key {
			t.Fatalf("get returned key %q, want %q", got, key)
		}
	}
	again, _ := h.get(objects[3], func() string { return "recomputed" }, nil)
	if again != "RESOURCE_SLICE//s3" {
		t.Errorf("a cached object's key was recomputed: %q", again)
	}
	h.prune(10, func(yield func(any)) {
		for _, o := range objects[:10] {
			yield(o)
		}
	})
	if len(h.byObj) != 10 {
		t.Errorf("after pruning %d entries are cached, want the 10 stored objects'", len(h.byObj))
	}
	h.prune(10, func(yield func(any)) {
		for _, o := range objects[:10] {
			yield(o)
		}
	})
	if len(h.byObj) != 10 {
		t.Errorf("a prune below the bound dropped entries: %d left", len(h.byObj))
	}
}

func overlayCount(t *ClaimTracker) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.overlays)
}
