package parity

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// gpuSnapshot: nodes a and b with four GPUs each (numa 0: gpu-0, gpu-1; numa 1: gpu-2, gpu-3),
// the gpu.example.com class, and pods p0..p(n-1), each with its own claim for two GPUs on one
// NUMA node.
func gpuSnapshot(pods int) *Snapshot {
	s := &Snapshot{Name: "gpus", Nodes: []*v1.Node{smallNode("a", "z1"), smallNode("b", "z1")},
		DeviceClasses: []*resourceapi.DeviceClass{{ObjectMeta: metav1.ObjectMeta{Name: classGPU},
			Spec: resourceapi.DeviceClassSpec{Selectors: []resourceapi.DeviceSelector{celSelector(`device.driver == "gpu.example.com"`)}}}}}
	for _, node := range []string{"a", "b"} {
		rs := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: node + "-gpu"}, Spec: resourceapi.ResourceSliceSpec{
			Driver: driverGPU, NodeName: ptr.To(node), Pool: resourceapi.ResourcePool{Name: node, Generation: 1, ResourceSliceCount: 1}}}
		for i := range 4 {
			rs.Spec.Devices = append(rs.Spec.Devices, resourceapi.Device{Name: fmt.Sprintf("gpu-%d", i),
				Attributes: attrs("numa", i/2), Capacity: capacity("memory", "80Gi")})
		}
		s.ResourceSlices = append(s.ResourceSlices, rs)
	}
	numa := resourceapi.FullyQualifiedName(driverGPU + "/numa")
	for i := range pods {
		p := smallPod("ml", fmt.Sprintf("p%d", i), nil)
		claim := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: fmt.Sprintf("c%d", i), UID: types.UID(fmt.Sprintf("uid-c%d", i))},
			Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{
				Requests:    []resourceapi.DeviceRequest{{Name: "gpu", Exactly: exact(classGPU, 2)}},
				Constraints: []resourceapi.DeviceConstraint{{MatchAttribute: &numa}}}}}
		p.Spec.ResourceClaims = []v1.PodResourceClaim{{Name: "gpus", ResourceClaimName: ptr.To(claim.Name)}}
		s.Pods = append(s.Pods, p)
		s.ResourceClaims = append(s.ResourceClaims, claim)
	}
	return s
}

// TestSequentialAllocatesOnBothSides: four pods that each want two GPUs of one NUMA node fill
// the two nodes' four NUMA nodes one by one (alternating: the emptier node scores higher) (each claim written with its allocation and the pod
// in reservedFor, so the next pod sees the devices taken), the fifth finds no room; then a pod
// leaves and its claim is released.
func TestSequentialAllocatesOnBothSides(t *testing.T) {
	ctx := context.Background()
	s := gpuSnapshot(5)
	e := &recordingEngine{}
	defer e.close()
	r, err := Compare(ctx, s, e, CompareOptions{MaxDiffs: 5, NoPreemption: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total() != 0 || r.Bound != 4 || r.LeftPending != 1 || r.AllocationClaims != 4 || r.AllocationDevices != 8 {
		var buf bytes.Buffer
		r.Write(&buf)
		t.Errorf("bound %d, pending %d, %d claims, %d devices compared:\n%s", r.Bound, r.LeftPending, r.AllocationClaims, r.AllocationDevices, buf.String())
	}
	// The mirror's claims as the harness wrote them: allocated where the pod went, reserved for
	// it; after the fifth comparison p3 (bound[5*7919 % 4]) left and its claim was released.
	if c3, _ := e.up.dra.claim("ml", "c3"); c3.Status.Allocation != nil || len(c3.Status.ReservedFor) != 0 {
		t.Errorf("claim c3 of the departed pod is still allocated: %+v", c3.Status)
	}
	got := map[string]string{}
	for i := range 3 {
		claim, err := e.up.dra.claim("ml", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if claim.Status.Allocation == nil || len(claim.Status.ReservedFor) != 1 || claim.Status.ReservedFor[0].Name != fmt.Sprintf("p%d", i) {
			t.Fatalf("claim c%d not written as PreBind would: %+v", i, claim.Status)
		}
		got[claim.Name] = renderAllocation(claim.Status.Allocation)
	}
	want := map[string]string{
		"c0": "[gpu=gpu.example.com/a/gpu-0] [gpu=gpu.example.com/a/gpu-1] node={field metadata.name In [a]}",
		"c1": "[gpu=gpu.example.com/b/gpu-0] [gpu=gpu.example.com/b/gpu-1] node={field metadata.name In [b]}",
		"c2": "[gpu=gpu.example.com/a/gpu-2] [gpu=gpu.example.com/a/gpu-3] node={field metadata.name In [a]}",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allocations (-want +got):\n%s", diff)
	}
}

// TestSequentialReleasesClaims: a departing pod leaves its claim's reservedFor; with nobody
// left the claim is deallocated on both sides, and the next pod gets its devices.
func TestSequentialReleasesClaims(t *testing.T) {
	ctx := context.Background()
	s := gpuSnapshot(6)
	s.Nodes = s.Nodes[:1]
	e := &recordingEngine{}
	defer e.close()
	r, err := Compare(ctx, s, e, CompareOptions{MaxDiffs: 5, NoPreemption: true})
	if err != nil {
		t.Fatal(err)
	}
	// p0, p1 fill node a (Assume, then for every other pod the informer's binding); p2..p4 wait;
	// after the fifth comparison p1 (bound[5*7919 % 2], assumed: Forget) leaves and its claim is
	// released; p5 takes its GPUs.
	wantBinds := []string{"p0->a assume", "p0->a false", "p1->a assume", "remove p1 forget true", "p5->a assume", "p5->a false"}
	if diff := cmp.Diff(wantBinds, e.binds); diff != "" || r.Total() != 0 {
		var buf bytes.Buffer
		r.Write(&buf)
		t.Errorf("binds (-want +got):\n%s\n%s", diff, buf.String())
	}
	c1, _ := e.up.dra.claim("ml", "c1")
	if c1.Status.Allocation != nil || len(c1.Status.ReservedFor) != 0 || len(c1.Finalizers) != 0 {
		t.Errorf("claim c1 of the departed pod still allocated: %+v", c1.Status)
	}
	c5, _ := e.up.dra.claim("ml", "c5")
	if c5.Status.Allocation == nil || c5.Status.Allocation.Devices.Results[0].Device != "gpu-2" {
		t.Errorf("claim c5 did not get the freed GPUs: %+v", c5.Status)
	}
}

// TestAllocationMismatchesReported: an engine whose Assume answers with another device, no share
// ID where upstream has one, a lost device result, or an extra claim is caught as allocation
// mismatches only.
func TestAllocationMismatchesReported(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		alter func([]*sextantv1.ClaimAllocation)
	}{
		{"device", func(as []*sextantv1.ClaimAllocation) {
			for _, a := range as {
				a.Allocation.Devices[0].Device += "-x"
			}
		}},
		{"share ID", func(as []*sextantv1.ClaimAllocation) {
			for _, a := range as {
				for _, d := range a.Allocation.Devices {
					if d.ShareId != nil {
						d.ShareId = nil
					} else {
						d.ShareId = ptr.To("x")
					}
				}
			}
		}},
		{"lost result", func(as []*sextantv1.ClaimAllocation) {
			for _, a := range as {
				a.Allocation.Devices = a.Allocation.Devices[1:]
			}
		}},
		{"node selector", func(as []*sextantv1.ClaimAllocation) {
			for _, a := range as {
				a.Allocation.NodeSelector = nil
			}
		}},
	} {
		total := NewReport(1)
		for seed := uint64(1); seed <= 3; seed++ {
			m := &mirrorEngine{alterAllocations: tc.alter}
			r, err := Compare(ctx, Generate(seed, DefaultGenerateOptions), m, CompareOptions{MaxDiffs: 1, NoPreemption: true})
			m.close()
			if err != nil {
				t.Fatal(err)
			}
			total.Add(r)
		}
		if total.Mismatches[KindAllocation] == 0 || total.Total() != total.Mismatches[KindAllocation] {
			var buf bytes.Buffer
			total.Write(&buf)
			t.Errorf("%s: want only allocation mismatches:\n%s", tc.name, buf.String())
		}
	}
}

// TestCycleErrorsCompared: a CEL runtime error in a claim's selector fails the cycle on both
// sides; the same message is a match, another message or no error a mismatch.
func TestCycleErrorsCompared(t *testing.T) {
	ctx := context.Background()
	s := gpuSnapshot(1)
	s.ResourceClaims[0].Spec.Devices.Requests[0].Exactly.Selectors = []resourceapi.DeviceSelector{
		celSelector(`device.attributes["gpu.example.com"].model == "h100"`)}
	up, err := newUpstream(ctx, withClaimVersions(s))
	if err != nil {
		t.Fatal(err)
	}
	v := up.evaluate(ctx, s.Pods[0])
	up.close()
	want := `claim ml/c0: selector #0 on device gpu.example.com/a/gpu-0: CEL runtime error: no such key: model`
	if !strings.HasPrefix(cycleErrorMessage(v.Error), want) {
		t.Fatalf("upstream's error %q, want the plugin's message starting %q", v.Error, want)
	}
	m := &mirrorEngine{}
	defer m.close()
	if r, err := Compare(ctx, s, m, CompareOptions{MaxDiffs: 1}); err != nil || r.Total() != 0 || r.BothErrors != 1 {
		t.Errorf("same error on both sides: %v, %d mismatches, %d both errors", err, r.Total(), r.BothErrors)
	}
	r := NewReport(1)
	comparePod(r, "x", "ml/p0", []string{"a", "b"}, v, &PodVerdict{Error: "another message"})
	comparePod(r, "x", "ml/p0", []string{"a", "b"}, v, &PodVerdict{Nodes: map[string]*NodeVerdict{}})
	if r.Mismatches[KindError] != 2 {
		t.Errorf("error mismatches %d, want 2", r.Mismatches[KindError])
	}
}

// TestDRAGeneratorCoverage checks that generated snapshots hold every DRA shape the sweep is
// meant to exercise, and that the other objects do not change when DRA is turned on.
func TestDRAGeneratorCoverage(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= 30; seed++ {
		s := Generate(seed, DefaultGenerateOptions)
		plain := DefaultGenerateOptions
		plain.DRA = false
		without := Generate(seed, plain)
		if len(without.Nodes) != len(s.Nodes) || len(without.PDBs) != len(s.PDBs) {
			t.Fatalf("seed %d: DRA changed the other objects", seed)
		}
		seen["classes"] += len(s.DeviceClasses)
		for _, rs := range s.ResourceSlices {
			spec := rs.Spec
			switch {
			case spec.Pool.ResourceSliceCount == 2 && len(spec.SharedCounters) > 0:
				seen["shared counters"]++
			case spec.Pool.ResourceSliceCount == 2 && spec.Pool.Generation == 3:
				seen["incomplete pool"]++
			case spec.Pool.ResourceSliceCount == 2 && strings.HasSuffix(rs.Name, "-gpu-b") && rs.Spec.Devices[0].Name == "gpu-0":
				seen["invalid pool"]++
			case spec.Pool.ResourceSliceCount == 2:
				seen["pool of two slices"]++
			case spec.Pool.Generation == 2:
				seen["newer generation"]++
			case spec.NodeSelector != nil:
				seen["nodeSelector slice"]++
			case ptr.Deref(spec.AllNodes, false):
				seen["allNodes slice"]++
			case ptr.Deref(spec.PerDeviceNodeSelection, false):
				seen["perDeviceNodeSelection slice"]++
			}
			for _, d := range spec.Devices {
				for _, taint := range d.Taints {
					seen["taint "+string(taint.Effect)]++
				}
				if len(d.ConsumesCounters) > 0 {
					seen["consumesCounters"]++
				}
				if ptr.Deref(d.AllowMultipleAllocations, false) {
					seen["allowMultipleAllocations"]++
				}
				if len(d.BindingConditions) > 0 {
					seen["bindingConditions"]++
				}
			}
		}
		for _, c := range s.ResourceClaims {
			if c.Status.Allocation != nil {
				seen["allocated"]++
				for _, r := range c.Status.Allocation.Devices.Results {
					if r.ShareID != nil {
						seen["allocated with share ID"]++
					}
				}
			}
			if len(c.Status.Devices) > 0 {
				seen["device status"]++
			}
			if c.DeletionTimestamp != nil {
				seen["claim being deleted"]++
			}
			if len(c.OwnerReferences) > 0 {
				seen["template claim"]++
			}
			for _, k := range c.Spec.Devices.Constraints {
				if k.MatchAttribute != nil {
					seen["matchAttribute"]++
				}
				if k.DistinctAttribute != nil {
					seen["distinctAttribute"]++
				}
			}
			for _, r := range c.Spec.Devices.Requests {
				if len(r.FirstAvailable) > 0 {
					seen[fmt.Sprintf("firstAvailable %d", len(r.FirstAvailable))]++
					continue
				}
				e := r.Exactly
				seen["mode "+string(e.AllocationMode)]++
				if e.DeviceClassName == classMissing {
					seen["missing class"]++
				}
				if ptr.Deref(e.AdminAccess, false) {
					seen["adminAccess"]++
				}
				if len(e.Tolerations) > 0 {
					seen["tolerations"]++
				}
				if e.Capacity != nil {
					seen["capacity request"]++
				}
				if len(e.Selectors) > 0 {
					seen["claim selector"]++
				}
			}
		}
		users := map[string]int{}
		for _, p := range s.Pods {
			for _, key := range podClaimKeys(p) {
				users[key]++
			}
			for _, pc := range p.Spec.ResourceClaims {
				if pc.ResourceClaimName != nil && *pc.ResourceClaimName == "missing-claim" {
					seen["missing claim"]++
				}
				if pc.ResourceClaimTemplateName != nil && len(podClaimKeys(&v1.Pod{Spec: v1.PodSpec{ResourceClaims: []v1.PodResourceClaim{pc}}, Status: p.Status})) == 0 {
					seen["template entry without claim"]++
				}
			}
		}
		for _, n := range users {
			if n > 1 {
				seen["claim shared by pods"]++
			}
		}
	}
	t.Logf("%v", seen)
	for _, want := range []string{"classes", "shared counters", "incomplete pool", "invalid pool", "pool of two slices", "newer generation",
		"nodeSelector slice", "allNodes slice", "perDeviceNodeSelection slice", "taint NoSchedule", "taint NoExecute", "taint None",
		"consumesCounters", "allowMultipleAllocations", "bindingConditions", "allocated", "allocated with share ID", "device status",
		"claim being deleted", "template claim", "matchAttribute", "distinctAttribute", "firstAvailable 2", "firstAvailable 3",
		"mode ExactCount", "mode All", "missing class", "adminAccess", "tolerations", "capacity request", "claim selector",
		"missing claim", "template entry without claim", "claim shared by pods"} {
		if seen[want] == 0 {
			t.Errorf("30 seeds generate no %q", want)
		}
	}
}

// Assume records "pod->node assume".
func (r *recordingEngine) Assume(ctx context.Context, pod *v1.Pod, node string) ([]*sextantv1.ClaimAllocation, error) {
	r.binds = append(r.binds, fmt.Sprintf("%s->%s assume", pod.Name, node))
	return r.mirrorEngine.Assume(ctx, pod, node)
}
