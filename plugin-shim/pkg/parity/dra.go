package parity

import (
	"context"
	"fmt"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/dynamic-resource-allocation/deviceclass/extendedresourcecache"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	resourceslicetracker "k8s.io/dynamic-resource-allocation/resourceslice/tracker"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	"k8s.io/kubernetes/pkg/scheduler/util/assumecache"
)

// upstreamDRA is kube-scheduler's DRA plumbing as scheduler.New builds it: an assume cache of
// ResourceClaims fed by their informer, the ResourceSlice tracker (DeviceTaintRules applied when
// that gate is on), and the DRA manager the framework hands to DynamicResources; the
// DeviceClass informer also feeds the extended-resource cache, as addAllEventHandlers chains it.
type upstreamDRA struct {
	claims  *assumecache.AssumeCache
	tracker *resourceslicetracker.Tracker
	manager *dynamicresources.DefaultDRAManager
}

// newUpstreamDRA registers its informers on factory (not started yet).
func newUpstreamDRA(ctx context.Context, cs kubernetes.Interface, factory informers.SharedInformerFactory) (*upstreamDRA, error) {
	logger := klog.FromContext(ctx)
	d := &upstreamDRA{}
	d.claims = assumecache.NewAssumeCache(logger, factory.Resource().V1().ResourceClaims().Informer(), "ResourceClaim", "", nil)
	opts := resourceslicetracker.Options{
		EnableDeviceTaintRules:   utilfeature.DefaultFeatureGate.Enabled(features.DRADeviceTaintRules),
		EnableConsumableCapacity: utilfeature.DefaultFeatureGate.Enabled(features.DRAConsumableCapacity),
		SliceInformer:            factory.Resource().V1().ResourceSlices(),
		KubeClient:               cs,
	}
	if opts.EnableDeviceTaintRules {
		opts.TaintInformer = factory.Resource().V1().DeviceTaintRules()
	}
	var err error
	if d.tracker, err = resourceslicetracker.StartTracker(ctx, opts); err != nil {
		return nil, fmt.Errorf("starting the resource slice tracker: %w", err)
	}
	d.manager = dynamicresources.NewDRAManager(ctx, d.claims, d.tracker, factory)
	if utilfeature.DefaultFeatureGate.Enabled(features.DRAExtendedResource) {
		erCache := d.manager.DeviceClassResolver().(*extendedresourcecache.ExtendedResourceCache)
		if _, err := factory.Resource().V1().DeviceClasses().Informer().AddEventHandler(erCache); err != nil {
			return nil, err
		}
	} else {
		factory.Resource().V1().DeviceClasses().Informer()
	}
	return d, nil
}

// waitSynced waits (after the factory synced) until the tracker and the assume cache hold what
// the snapshot has: their handlers run after the informers' stores are filled.
func (d *upstreamDRA) waitSynced(ctx context.Context, s *Snapshot) error {
	return wait.PollUntilContextTimeout(ctx, time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		if !d.tracker.HasSynced() || len(d.claims.List(nil)) != len(s.ResourceClaims) {
			return false, nil
		}
		slices, err := d.tracker.ListPatchedResourceSlices()
		return err == nil && len(slices) == len(s.ResourceSlices), nil
	})
}

func (d *upstreamDRA) stop() { d.tracker.Stop() }

// claim is the claim as the scheduler sees it now (assumed or from the informer).
func (d *upstreamDRA) claim(namespace, name string) (*resourceapi.ResourceClaim, error) {
	return d.manager.ResourceClaims().Get(namespace, name)
}

// write stores claim as the claim informer reports PreBind's write (or the resourceclaim
// controller's): the assume cache takes the new version as its informer handler would, which
// also updates the allocated devices DynamicResources counts, and the claim's in-flight
// allocation ends as after a successful PreBind. The fake clientset is not updated: nothing in a
// cycle reads claims from it, and its field-managed Update (a REST mapper built per call) cost a
// tenth of a sweep. claim.ResourceVersion must be newer than the stored one.
func (d *upstreamDRA) write(claim *resourceapi.ResourceClaim) {
	assumecache.UpdateTestObject(d.claims, claim)
	d.manager.ResourceClaims().MaybeRemoveClaimPendingAllocation(claim.UID, true)
}

// podClaims resolves the pod's spec.resourceClaims to claim keys ("namespace/name") as
// resourceclaim.Name does, leaving out entries that need no claim and those that cannot be
// resolved (PreFilter rejects such a pod).
func podClaimKeys(pod *v1.Pod) []string {
	var out []string
	for i := range pod.Spec.ResourceClaims {
		name, _, err := resourceclaim.Name(pod, &pod.Spec.ResourceClaims[i])
		if err != nil || name == nil {
			continue
		}
		out = append(out, pod.Namespace+"/"+*name)
	}
	return out
}

// claimAllocation is one claim's allocation made for a pod on a node.
type claimAllocation struct {
	Key        string // namespace/name
	UID        types.UID
	Allocation *resourceapi.AllocationResult
}

// reserve runs upstream's Reserve for pod on node (DynamicResources is the profile's only
// Reserve plugin) with the cycle's state, and returns the allocations it made, in the order of
// the pod's claims: the claims that had no allocation, each once. When cyc is nil or did not filter node
// as feasible (a pod bound after preemption), a fresh PreFilter and Filter on node come first,
// as the scheduler's next cycle would run them. On failure nothing stays in flight.
func (u *upstream) reserve(ctx context.Context, pod *v1.Pod, node string, cyc *cycleResult) ([]claimAllocation, error) {
	var state fwk.CycleState
	if cyc != nil && cyc.prefiltered && cyc.statuses[node].IsSuccess() {
		state = cyc.state
	} else {
		state = framework.NewCycleState()
		if _, st, _ := u.fw.RunPreFilterPlugins(ctx, state, pod); !st.IsSuccess() {
			return nil, fmt.Errorf("PreFilter before Reserve: %v", st.AsError())
		}
		ni, err := u.snap.NodeInfos().Get(node)
		if err != nil {
			return nil, err
		}
		if st := u.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni); !st.IsSuccess() {
			return nil, fmt.Errorf("Filter before Reserve on %s: %v", node, st.AsError())
		}
	}
	// Claims without an allocation before Reserve, each once: a claim the pod lists twice is
	// allocated twice by Filter, but Reserve keeps the first allocation in flight (the second
	// only adds a sharer), and that is the one PreBind ends up writing.
	var pending []*resourceapi.ResourceClaim
	seen := map[string]bool{}
	for _, key := range podClaimKeys(pod) {
		if seen[key] {
			continue
		}
		seen[key] = true
		ns, name := splitKey(key)
		claim, err := u.dra.claim(ns, name)
		if err != nil {
			return nil, err
		}
		if claim.Status.Allocation == nil {
			pending = append(pending, claim)
		}
	}
	if st := u.fw.RunReservePluginsReserve(ctx, state, pod, node); !st.IsSuccess() {
		u.dra.dropPending(pending)
		return nil, fmt.Errorf("Reserve on %s: %v", node, st.AsError())
	}
	var out []claimAllocation
	for _, claim := range pending {
		alloc := u.dra.manager.ResourceClaims().GetPendingAllocation(claim.UID)
		if alloc == nil {
			u.dra.dropPending(pending)
			return nil, fmt.Errorf("Reserve on %s left claim %s without an allocation", node, claimKey(claim))
		}
		out = append(out, claimAllocation{Key: claimKey(claim), UID: claim.UID, Allocation: alloc.DeepCopy()})
	}
	return out, nil
}

// dropPending ends the in-flight allocations of claims (a Reserve that is not followed by
// PreBind), as Unreserve does, without its API calls.
func (d *upstreamDRA) dropPending(claims []*resourceapi.ResourceClaim) {
	for _, c := range claims {
		if d.manager.ResourceClaims().MaybeRemoveClaimPendingAllocation(c.UID, true) {
			d.manager.ResourceClaims().AssumedClaimRestore(c.Namespace, c.Name)
		}
	}
}

// dropPendingAllocations is dropPending for what reserve returned.
func (d *upstreamDRA) dropPendingAllocations(allocs []claimAllocation) {
	for _, a := range allocs {
		ns, name := splitKey(a.Key)
		if d.manager.ResourceClaims().MaybeRemoveClaimPendingAllocation(a.UID, true) {
			d.manager.ResourceClaims().AssumedClaimRestore(ns, name)
		}
	}
}

func splitKey(key string) (namespace, name string) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

// boundClaim is claim as PreBind writes it for pod: with alloc (nil: the claim was allocated
// already) the finalizer and status.allocation, then the pod in status.reservedFor (unless it
// is there) and, as the binding-conditions gates require, an allocation timestamp if there is
// none. resourceVersion is the new version.
func boundClaim(claim *resourceapi.ResourceClaim, pod *v1.Pod, alloc *resourceapi.AllocationResult, now time.Time, resourceVersion string) *resourceapi.ResourceClaim {
	out := claim.DeepCopy()
	if alloc != nil {
		if !slices.Contains(out.Finalizers, resourceapi.Finalizer) {
			out.Finalizers = append(out.Finalizers, resourceapi.Finalizer)
		}
		out.Status.Allocation = alloc.DeepCopy()
	}
	if !resourceclaim.IsReservedForPod(pod, out, false) {
		out.Status.ReservedFor = append(out.Status.ReservedFor, resourceapi.ResourceClaimConsumerReference{Resource: "pods", Name: pod.Name, UID: pod.UID})
	}
	if out.Status.Allocation != nil && out.Status.Allocation.AllocationTimestamp == nil {
		out.Status.Allocation.AllocationTimestamp = &metav1.Time{Time: now}
	}
	out.ResourceVersion = resourceVersion
	return out
}

// releasedClaim is claim after pod is gone (deleted, or unreserved after a failed binding): the
// pod leaves status.reservedFor; with no consumer left, the resourceclaim controller
// deallocates the claim (allocation, device statuses and finalizer removed). nil when pod did
// not hold the claim.
func releasedClaim(claim *resourceapi.ResourceClaim, pod *v1.Pod, resourceVersion string) *resourceapi.ResourceClaim {
	if !resourceclaim.IsReservedForPod(pod, claim, false) {
		return nil
	}
	out := claim.DeepCopy()
	out.Status.ReservedFor = slices.DeleteFunc(out.Status.ReservedFor, func(r resourceapi.ResourceClaimConsumerReference) bool { return r.UID == pod.UID })
	if len(out.Status.ReservedFor) == 0 {
		out.Status.ReservedFor = nil
		out.Status.Allocation = nil
		out.Status.Devices = nil
		out.Finalizers = slices.DeleteFunc(out.Finalizers, func(f string) bool { return f == resourceapi.Finalizer })
	}
	out.ResourceVersion = resourceVersion
	return out
}
