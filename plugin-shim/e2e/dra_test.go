package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"sextant.io/plugin-shim/pkg/controlplane"
)

// Dynamic Resource Allocation end to end: the engine allocates devices from the ResourceSlices
// (upstream's structured allocator semantics) and the scheduler writes the allocation to the
// claim before binding. These tests need the engine's DRA side.

const gpuDriver = "gpu.example.com"

// gpuClass registers the DeviceClass of the test driver's devices (cluster-scoped, removed at
// the end of the test).
func (e *env) gpuClass(name string) {
	e.t.Helper()
	class := &resourceapi.DeviceClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: resourceapi.DeviceClassSpec{Selectors: []resourceapi.DeviceSelector{{
			CEL: &resourceapi.CELDeviceSelector{Expression: fmt.Sprintf("device.driver == %q", gpuDriver)},
		}}},
	}
	if _, err := cp.Admin.ResourceV1().DeviceClasses().Create(e.ctx, class, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("device class %s: %v", name, err)
	}
	e.t.Cleanup(func() {
		_ = cp.Admin.ResourceV1().DeviceClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// gpuSlice publishes the node's GPUs as the driver's kubelet plugin would: one pool per node,
// gpu-0..gpu-(n-1), model H100, the first half on NUMA node 0 and the rest on NUMA node 1.
func (e *env) gpuSlice(node string, gpus int) {
	e.t.Helper()
	name := node + "-" + gpuDriver
	slice := &resourceapi.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: resourceapi.ResourceSliceSpec{
			Driver:   gpuDriver,
			Pool:     resourceapi.ResourcePool{Name: node, Generation: 1, ResourceSliceCount: 1},
			NodeName: ptr.To(node),
		},
	}
	for i := 0; i < gpus; i++ {
		slice.Spec.Devices = append(slice.Spec.Devices, resourceapi.Device{
			Name: fmt.Sprintf("gpu-%d", i),
			Attributes: map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{
				"model": {StringValue: ptr.To("H100")},
				"numa":  {IntValue: ptr.To(int64(i * 2 / gpus))},
			},
		})
	}
	if _, err := cp.Admin.ResourceV1().ResourceSlices().Create(e.ctx, slice, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("resource slice %s: %v", name, err)
	}
	e.t.Cleanup(func() {
		_ = cp.Admin.ResourceV1().ResourceSlices().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// gpuClaimSpec asks for count GPUs of the class on one NUMA node.
func gpuClaimSpec(class string, count int64) resourceapi.ResourceClaimSpec {
	return resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{
		Requests: []resourceapi.DeviceRequest{{Name: "gpus", Exactly: &resourceapi.ExactDeviceRequest{
			DeviceClassName: class, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: count,
		}}},
		Constraints: []resourceapi.DeviceConstraint{{
			Requests: []string{"gpus"}, MatchAttribute: ptr.To[resourceapi.FullyQualifiedName](gpuDriver + "/numa"),
		}},
	}}
}

func (e *env) claim(name string, spec resourceapi.ResourceClaimSpec) {
	e.t.Helper()
	claim := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.namespace}, Spec: spec}
	if _, err := cp.Admin.ResourceV1().ResourceClaims(e.namespace).Create(e.ctx, claim, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("resource claim %s: %v", name, err)
	}
}

// claimPod is a pod whose container uses one claim, named directly or made from a template.
func (e *env) claimPod(name string, claim corev1.PodResourceClaim) *corev1.Pod {
	e.t.Helper()
	pod := makePod(e.namespace, podSpec{name: name, cpu: "1", memory: "1Gi"})
	pod.Spec.ResourceClaims = []corev1.PodResourceClaim{claim}
	pod.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: claim.Name}}
	created, err := cp.Admin.CoreV1().Pods(e.namespace).Create(e.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("pod %s: %v", name, err)
	}
	return created
}

func (e *env) getClaim(name string) *resourceapi.ResourceClaim {
	e.t.Helper()
	claim, err := cp.Admin.ResourceV1().ResourceClaims(e.namespace).Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatalf("claim %s: %v", name, err)
	}
	return claim
}

// checkAllocated checks what PreBind wrote: count devices of the test driver from the pod's
// node, all on one NUMA node (the matchAttribute constraint), a node selector for the node, the
// pod in reservedFor, the delete-protection finalizer and the allocation timestamp.
func (e *env) checkAllocated(claim *resourceapi.ResourceClaim, pod *corev1.Pod, node string, count int) {
	e.t.Helper()
	a := claim.Status.Allocation
	if a == nil {
		e.t.Fatalf("claim %s is not allocated; status %+v", claim.Name, claim.Status)
	}
	if len(a.Devices.Results) != count {
		e.t.Errorf("claim %s has %d devices, want %d: %+v", claim.Name, len(a.Devices.Results), count, a.Devices.Results)
	}
	numa := map[int]bool{}
	for _, r := range a.Devices.Results {
		if r.Driver != gpuDriver || r.Pool != node || r.Request != "gpus" {
			e.t.Errorf("claim %s: device %+v, want request gpus of %s in pool %s", claim.Name, r, gpuDriver, node)
		}
		var i int
		if _, err := fmt.Sscanf(r.Device, "gpu-%d", &i); err != nil {
			e.t.Errorf("claim %s: device name %q", claim.Name, r.Device)
		}
		numa[i*2/4] = true
	}
	if len(numa) != 1 {
		e.t.Errorf("claim %s: devices %+v span NUMA nodes %v; the constraint wants one", claim.Name, a.Devices.Results, numa)
	}
	if !selectsOnly(a.NodeSelector, node) {
		e.t.Errorf("claim %s: node selector %+v, want node %s", claim.Name, a.NodeSelector, node)
	}
	if a.AllocationTimestamp == nil {
		e.t.Errorf("claim %s: no allocationTimestamp", claim.Name)
	}
	want := []resourceapi.ResourceClaimConsumerReference{{Resource: "pods", Name: pod.Name, UID: pod.UID}}
	if got := claim.Status.ReservedFor; len(got) != 1 || got[0] != want[0] {
		e.t.Errorf("claim %s: reservedFor %+v, want %+v", claim.Name, got, want)
	}
	if len(claim.Finalizers) != 1 || claim.Finalizers[0] != resourceapi.Finalizer {
		e.t.Errorf("claim %s: finalizers %v, want %s", claim.Name, claim.Finalizers, resourceapi.Finalizer)
	}
}

// selectsOnly reports whether the allocation's node selector is upstream's for a node-local
// pool: metadata.name In [node].
func selectsOnly(s *corev1.NodeSelector, node string) bool {
	if s == nil || len(s.NodeSelectorTerms) != 1 {
		return false
	}
	t := s.NodeSelectorTerms[0]
	for _, r := range append(t.MatchFields, t.MatchExpressions...) {
		if r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 && r.Values[0] == node {
			return true
		}
	}
	return false
}

// waitFailedScheduling returns the last FailedScheduling message from Sextant for pod that
// contains every want, or fails.
func (e *env) waitFailedScheduling(pod string, timeout time.Duration, wants ...string) string {
	e.t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		for _, ev := range e.podEvents(pod, "FailedScheduling") {
			if ev.ReportingController != schedulerName {
				continue
			}
			last = ev.Message
			complete := true
			for _, w := range wants {
				complete = complete && strings.Contains(ev.Message, w)
			}
			if complete {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("no FailedScheduling event for %s containing %q; last: %q\n%s", pod, wants, last, e.events())
	}
	return last
}

// TestDRAAllocation: two nodes with four GPUs each (two per NUMA node). A pod whose claim asks
// for two GPUs on one NUMA node is bound, and its claim shows the engine's allocation on the
// pod's node, the pod in reservedFor and the finalizer; a pod wanting more GPUs than any node has
// left stays pending with the engine's reason.
func TestDRAAllocation(t *testing.T) {
	e := newEnv(t)
	class := "gpu-" + e.namespace
	for _, n := range []string{"dra-a", "dra-b"} {
		e.node(controlplane.NodeSpec{Name: n, CPU: "8", Memory: "32Gi"})
		e.gpuSlice(n, 4)
	}
	e.gpuClass(class)
	e.claim("two-gpus", gpuClaimSpec(class, 2))
	e.claim("five-gpus", gpuClaimSpec(class, 5))

	trainer := e.claimPod("trainer", corev1.PodResourceClaim{Name: "gpus", ResourceClaimName: ptr.To("two-gpus")})
	node := e.waitBound(60*time.Second, "trainer")["trainer"]
	e.checkAllocated(e.getClaim("two-gpus"), trainer, node, 2)
	e.boundOnce("trainer")

	e.claimPod("greedy", corev1.PodResourceClaim{Name: "gpus", ResourceClaimName: ptr.To("five-gpus")})
	msg := e.waitFailedScheduling("greedy", 60*time.Second, "0/2 nodes are available", "cannot allocate all claims")
	t.Logf("greedy: %s", msg)
	pod, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "greedy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "" || !controlplane.Refused(pod) {
		t.Errorf("greedy: node %q, conditions %+v; want pending and refused", pod.Spec.NodeName, pod.Status.Conditions)
	}
	if c := e.getClaim("five-gpus"); c.Status.Allocation != nil || len(c.Finalizers) != 0 {
		t.Errorf("the unschedulable pod's claim was written: %+v", c)
	}
	// The first claim is untouched by the second pod's attempts.
	e.checkAllocated(e.getClaim("two-gpus"), trainer, node, 2)
}

// TestDRAClaimTemplate: a pod's claim made from a ResourceClaimTemplate (by upstream's
// resourceclaim controller, which the local control plane runs) is allocated and reserved for the
// pod, which is bound; the pod waited for its claim to exist (PreEnqueue).
func TestDRAClaimTemplate(t *testing.T) {
	e := newEnv(t)
	class := "gpu-" + e.namespace
	e.node(controlplane.NodeSpec{Name: "dra-t", CPU: "8", Memory: "32Gi"})
	e.gpuSlice("dra-t", 4)
	e.gpuClass(class)
	template := &resourceapi.ResourceClaimTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "one-gpu", Namespace: e.namespace},
		Spec:       resourceapi.ResourceClaimTemplateSpec{Spec: gpuClaimSpec(class, 1)},
	}
	if _, err := cp.Admin.ResourceV1().ResourceClaimTemplates(e.namespace).Create(e.ctx, template, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := e.claimPod("inference", corev1.PodResourceClaim{Name: "gpu", ResourceClaimTemplateName: ptr.To("one-gpu")})
	node := e.waitBound(60*time.Second, "inference")["inference"]
	if node != "dra-t" {
		t.Errorf("inference bound to %q, want dra-t", node)
	}
	pod, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "inference", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pod.Status.ResourceClaimStatuses) != 1 || pod.Status.ResourceClaimStatuses[0].ResourceClaimName == nil {
		t.Fatalf("pod claim statuses %+v, want the generated claim", pod.Status.ResourceClaimStatuses)
	}
	claim := e.getClaim(*pod.Status.ResourceClaimStatuses[0].ResourceClaimName)
	if owner := metav1.GetControllerOf(claim); owner == nil || owner.UID != pod.UID {
		t.Errorf("generated claim owner %+v, want the pod", owner)
	}
	e.checkAllocated(claim, pod, node, 1)
	e.boundOnce("inference")

	// The pod goes: upstream's controller releases the reservation, the allocation and the
	// finalizer (the kubelet stand-in confirms the pod's deletion). Deleting the claim itself is the
	// garbage collector's job, which the local control plane does not run: a released claim is
	// as good as gone for scheduling.
	zero := int64(0)
	if err := cp.Admin.CoreV1().Pods(e.namespace).Delete(e.ctx, "inference", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		c, err := cp.Admin.ResourceV1().ResourceClaims(e.namespace).Get(ctx, claim.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return c.Status.Allocation == nil && len(c.Status.ReservedFor) == 0 && len(c.Finalizers) == 0, nil
	})
	if err != nil {
		t.Errorf("the deleted pod's generated claim %s was not released: %v", claim.Name, err)
	}
}

// TestDRAPodWaitsForItsClaim: a pod whose claim does not exist yet is held (PreEnqueue), not
// bound and not refused; once the claim is created the pod is scheduled and the claim allocated.
func TestDRAPodWaitsForItsClaim(t *testing.T) {
	e := newEnv(t)
	class := "gpu-" + e.namespace
	e.node(controlplane.NodeSpec{Name: "dra-w", CPU: "8", Memory: "32Gi"})
	e.gpuSlice("dra-w", 2)
	e.gpuClass(class)
	e.claimPod("waiter", corev1.PodResourceClaim{Name: "gpus", ResourceClaimName: ptr.To("later")})
	time.Sleep(3 * time.Second)
	pod, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "waiter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "" {
		t.Fatalf("waiter was bound to %s before its claim existed", pod.Spec.NodeName)
	}
	e.claim("later", gpuClaimSpec(class, 1))
	node := e.waitBound(60*time.Second, "waiter")["waiter"]
	pod, err = cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "waiter", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.checkAllocated(e.getClaim("later"), pod, node, 1)
}
