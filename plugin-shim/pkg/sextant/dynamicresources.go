package sextant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	resourcelisters "k8s.io/client-go/listers/resource/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/dynamic-resource-allocation/resourceclaim"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"

	"sextant.io/plugin-shim/pkg/engineclient"
)

// Dynamic Resource Allocation around the engine's allocator: what upstream's DynamicResources
// plugin does besides filtering and allocating, with the allocation made by the engine in
// Assume (Reserve).
//
//   - PreEnqueue holds a pod whose claims do not exist yet, are being deleted, or (made from a
//     template) are not owned by the pod.
//   - PreBind writes each claim not yet reserved for the pod, as upstream's bindClaim: with an
//     allocation from Assume, the finalizer (Update), then status.allocation and the pod in
//     status.reservedFor (UpdateStatus), retried on conflict with a fresh claim; for a claim
//     allocated already, only the reservation. Then it waits for devices with binding
//     conditions.
//   - Unreserve removes the pod from the reservations it holds (strategic-merge patch).
//   - PostFilter deallocates an allocated claim of the pod that the engine reports unreachable
//     from some node and that no other pod holds, before preemption.

// DefaultBindingTimeout is upstream's DynamicResourcesArgs.bindingTimeout default: how long
// PreBind waits for devices with binding conditions.
const DefaultBindingTimeout = 600 * time.Second

// bindingPollInterval is upstream's: how often PreBind looks at the claims' device conditions.
const bindingPollInterval = 5 * time.Second

const claimsKey fwk.StateKey = "Sextant/claims"

// Errors of the binding-conditions wait, as upstream's.
var (
	ErrDeviceBindingTimeout = errors.New("device binding timeout")
	ErrDeviceBindingFailed  = errors.New("device binding failed")
)

var (
	_ fwk.PreBindPlugin     = &Plugin{}
	_ fwk.EnqueueExtensions = &Plugin{}
)

// dra is what the DRA extension points need from the framework.
type dra struct {
	handle    fwk.Handle
	clientset kubernetes.Interface
	claims    *engineclient.ClaimTracker
	classes   resourcelisters.DeviceClassLister
	fts       feature.Features
	// bindingTimeout and pollInterval bound the binding-conditions wait.
	bindingTimeout, pollInterval time.Duration
}

// newDRA uses the client's claim tracker when it has one (GRPCClient: the one its Sync loop
// sends), else one over the handle's claim informer.
func newDRA(client engineclient.Client, h fwk.Handle, fts feature.Features) *dra {
	var claims *engineclient.ClaimTracker
	if c, ok := client.(interface {
		Claims() *engineclient.ClaimTracker
	}); ok {
		claims = c.Claims()
	} else {
		claims = engineclient.NewClaimTracker(h.SharedInformerFactory().Resource().V1().ResourceClaims().Lister())
	}
	return &dra{
		handle: h, clientset: h.ClientSet(), claims: claims,
		classes:        h.SharedInformerFactory().Resource().V1().DeviceClasses().Lister(),
		fts:            fts,
		bindingTimeout: DefaultBindingTimeout, pollInterval: bindingPollInterval,
	}
}

// boundClaims are the pod's claims as PreBind left them (Unreserve reads them).
type boundClaims map[string]*resourceapi.ResourceClaim

func (b boundClaims) Clone() fwk.StateData { return b }

// EventsToRegister implements fwk.EnqueueExtensions. The engine decides on every kind of
// object, so a pod it rejected is retried on any event, as for a plugin without
// EnqueueExtensions; that default leaves ResourceSlice out, and new devices must retry pods
// waiting for devices, so it is added.
func (pl *Plugin) EventsToRegister(context.Context) ([]fwk.ClusterEventWithHint, error) {
	events := framework.UnrollWildCardResource()
	return append(events, fwk.ClusterEventWithHint{Event: fwk.ClusterEvent{Resource: fwk.ResourceSlice, ActionType: fwk.All}}), nil
}

// checkPodClaims is upstream's PreEnqueue check (foreachPodResourceClaim): every claim of the
// pod exists, is not being deleted, and, when made from a template, is owned by the pod.
func (d *dra) checkPodClaims(pod *v1.Pod) error {
	for i := range pod.Spec.ResourceClaims {
		podClaim := &pod.Spec.ResourceClaims[i]
		name, mustCheckOwner, err := resourceclaim.Name(pod, podClaim)
		if err != nil {
			return err
		}
		if name == nil {
			continue // no claim was needed
		}
		claim, err := d.claims.Get(pod.Namespace, *name)
		if err != nil {
			return err
		}
		if claim.DeletionTimestamp != nil {
			return fmt.Errorf("resourceclaim %q is being deleted", claim.Name)
		}
		if mustCheckOwner {
			if err := resourceclaim.IsForPod(pod, claim, d.fts.EnableDRAWorkloadResourceClaims); err != nil {
				return err
			}
		}
	}
	return nil
}

// podClaims returns the pod's claims by name, in spec order, skipping the ones no claim was
// needed for.
func (d *dra) podClaims(pod *v1.Pod) ([]*resourceapi.ResourceClaim, error) {
	var out []*resourceapi.ResourceClaim
	for i := range pod.Spec.ResourceClaims {
		name, _, err := resourceclaim.Name(pod, &pod.Spec.ResourceClaims[i])
		if err != nil {
			return nil, err
		}
		if name == nil {
			continue
		}
		claim, err := d.claims.Get(pod.Namespace, *name)
		if err != nil {
			return nil, err
		}
		out = append(out, claim)
	}
	return out, nil
}

// PreBindPreFlight implements fwk.PreBindPlugin: PreBind has work only for pods with claims.
func (pl *Plugin) PreBindPreFlight(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) (*fwk.PreBindPreFlightResult, *fwk.Status) {
	result := &fwk.PreBindPreFlightResult{AllowParallel: true}
	if len(pod.Spec.ResourceClaims) == 0 {
		return result, fwk.NewStatus(fwk.Skip)
	}
	return result, nil
}

// PreBind implements fwk.PreBindPlugin: it writes the engine's allocations and the pod's
// reservations to the claims, then waits for devices with binding conditions. Any failure is
// an Error status; the scheduler then runs Unreserve and retries the pod after backoff.
func (pl *Plugin) PreBind(ctx context.Context, state fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	if len(pod.Spec.ResourceClaims) == 0 {
		return nil
	}
	logger := pl.logger(ctx, pod)
	if pl.dra == nil {
		return fwk.AsStatus(fmt.Errorf("the %s plugin was built without a framework handle and cannot write resource claims", Name))
	}
	d := pl.dra
	claims, err := d.podClaims(pod)
	if err != nil {
		return fwk.AsStatus(err)
	}
	allocations := map[string]engineclient.ClaimAllocation{}
	if a, err := state.Read(assumedKey); err == nil {
		if a, ok := a.(*assumed); ok {
			for _, alloc := range a.allocations {
				allocations[alloc.Name] = alloc
			}
		}
	}
	bound := boundClaims{}
	// Updated as claims are written, so that Unreserve works with the claims as written.
	state.Write(claimsKey, bound)
	for _, claim := range claims {
		bound[claim.Name] = claim
		if resourceclaim.IsReservedForPod(pod, claim, d.fts.EnableDRAWorkloadResourceClaims) {
			continue
		}
		var allocation *resourceapi.AllocationResult
		if a, ok := allocations[claim.Name]; ok {
			if a.UID != claim.UID {
				return fwk.AsStatus(fmt.Errorf("claim %s was replaced since the Sextant engine allocated it (uid %s, now %s)",
					klog.KObj(claim), a.UID, claim.UID))
			}
			if allocation, err = d.withConfig(claim, a.Allocation); err != nil {
				return fwk.AsStatus(err)
			}
		}
		updated, err := d.bindClaim(ctx, logger, claim, allocation, pod)
		if err != nil {
			return fwk.AsStatus(err)
		}
		bound[claim.Name] = updated
	}
	if !d.fts.EnableDRADeviceBindingConditions || !d.fts.EnableDRAResourceClaimDeviceStatus || !hasBindingConditions(bound) {
		return nil
	}
	return d.awaitBindingConditions(ctx, logger, pod, nodeName, bound)
}

// bindClaim records the allocation (when the engine made one) and the pod's reservation in the
// claim, as upstream's bindClaim, and returns the claim the API server answered.
func (d *dra) bindClaim(ctx context.Context, logger klog.Logger, claim *resourceapi.ResourceClaim,
	allocation *resourceapi.AllocationResult, pod *v1.Pod) (*resourceapi.ResourceClaim, error) {
	claims := d.clientset.ResourceV1().ResourceClaims(claim.Namespace)
	reservation := resourceapi.ResourceClaimConsumerReference{APIGroup: v1.GroupName, Resource: "pods", Name: pod.Name, UID: pod.UID}
	refresh := false
	written := false
	claim = claim.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if refresh {
			latest, err := claims.Get(ctx, claim.Name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("get updated claim %s after conflict: %w", klog.KObj(claim), err)
			}
			logger.V(5).Info("Retrying the claim update after a conflict", "claim", klog.KObj(claim))
			claim = latest
		}
		refresh = true
		if claim.DeletionTimestamp != nil {
			return fmt.Errorf("claim %s got deleted in the meantime", klog.KObj(claim))
		}
		if allocation != nil {
			if claim.Status.Allocation != nil {
				return fmt.Errorf("claim %s got allocated elsewhere in the meantime", klog.KObj(claim))
			}
			// The finalizer needs a normal update; after an interrupted attempt it may be there.
			if !slices.Contains(claim.Finalizers, resourceapi.Finalizer) {
				claim.Finalizers = append(claim.Finalizers, resourceapi.Finalizer)
				updated, err := claims.Update(ctx, claim, metav1.UpdateOptions{})
				if err != nil {
					return fmt.Errorf("add finalizer to claim %s: %w", klog.KObj(claim), err)
				}
				claim = updated
			}
			claim.Status.Allocation = allocation.DeepCopy()
		}
		// The API server refuses the reservation with a non-conflict error if it cannot be made.
		claim.Status.ReservedFor = append(claim.Status.ReservedFor, reservation)
		if d.fts.EnableDRADeviceBindingConditions && d.fts.EnableDRAResourceClaimDeviceStatus {
			if claim.Status.Allocation == nil {
				return fmt.Errorf("claim %s got deallocated elsewhere in the meantime", klog.KObj(claim))
			}
			if claim.Status.Allocation.AllocationTimestamp == nil {
				claim.Status.Allocation.AllocationTimestamp = &metav1.Time{Time: time.Now()}
			}
		}
		updated, err := claims.UpdateStatus(ctx, claim, metav1.UpdateOptions{})
		if err != nil {
			if allocation != nil {
				return fmt.Errorf("add allocation and reservation to claim %s: %w", klog.KObj(claim), err)
			}
			return fmt.Errorf("add reservation to claim %s: %w", klog.KObj(claim), err)
		}
		claim, written = updated, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if written {
		d.claims.AssumeWritten(claim)
	}
	logger.V(4).Info("Reserved claim for the pod", "claim", klog.KObj(claim), "allocated", allocation != nil)
	return claim, nil
}

// withConfig completes the engine's allocation with the configuration upstream's allocator
// puts in it: the configs of the class of every allocated (sub)request, each class's once, then
// the claim's configs that apply to the chosen (sub)requests; a config that applies to every
// request lists none.
func (d *dra) withConfig(claim *resourceapi.ResourceClaim, engine *resourceapi.AllocationResult) (*resourceapi.AllocationResult, error) {
	out := engine.DeepCopy()
	requests := claim.Spec.Devices.Requests
	// The subrequest chosen for each request with firstAvailable, from the results.
	chosen := make([]int, len(requests))
	for _, r := range out.Devices.Results {
		parent, sub, found := strings.Cut(r.Request, "/")
		if !found {
			continue
		}
		for i := range requests {
			if requests[i].Name != parent {
				continue
			}
			for j := range requests[i].FirstAvailable {
				if requests[i].FirstAvailable[j].Name == sub {
					chosen[i] = j
				}
			}
		}
	}
	// requestName is the name results and configs use for request i: "request" or "request/sub".
	requestName := func(i int) (name, class string, ok bool) {
		r := &requests[i]
		switch {
		case r.Exactly != nil:
			return r.Name, r.Exactly.DeviceClassName, true
		case len(r.FirstAvailable) > 0:
			sub := &r.FirstAvailable[chosen[i]]
			return r.Name + "/" + sub.Name, sub.DeviceClassName, true
		}
		return "", "", false
	}
	var configs []resourceapi.DeviceAllocationConfiguration
	type span struct{ start, end int }
	classSpans := map[string]span{}
	for i := range requests {
		name, className, ok := requestName(i)
		if !ok {
			continue
		}
		if s, seen := classSpans[className]; seen {
			for j := s.start; j < s.end; j++ {
				configs[j].Requests = append(configs[j].Requests, name)
			}
			continue
		}
		class, err := d.classes.Get(className)
		if err != nil {
			return nil, fmt.Errorf("claim %s, request %s: device class %s: %w", klog.KObj(claim), name, className, err)
		}
		start := len(configs)
		for _, c := range class.Spec.Config {
			configs = append(configs, resourceapi.DeviceAllocationConfiguration{
				Source: resourceapi.AllocationConfigSourceClass, Requests: []string{name},
				DeviceConfiguration: *c.DeviceConfiguration.DeepCopy(),
			})
		}
		classSpans[className] = span{start, len(configs)}
	}
	for _, c := range claim.Spec.Devices.Config {
		fromClaim := resourceapi.DeviceAllocationConfiguration{
			Source: resourceapi.AllocationConfigSourceClaim, Requests: slices.Clone(c.Requests),
			DeviceConfiguration: *c.DeviceConfiguration.DeepCopy(),
		}
		if len(c.Requests) == 0 {
			configs = append(configs, fromClaim)
			continue
		}
		for i := range requests {
			name, _, ok := requestName(i)
			if slices.Contains(c.Requests, requests[i].Name) || (ok && name != requests[i].Name && slices.Contains(c.Requests, name)) {
				configs = append(configs, fromClaim)
				break
			}
		}
	}
	for j := range configs {
		if len(configs[j].Requests) == 0 {
			continue
		}
		all := true
		for i := range requests {
			name, _, _ := requestName(i)
			if !slices.Contains(configs[j].Requests, requests[i].Name) && !slices.Contains(configs[j].Requests, name) {
				all = false
				break
			}
		}
		if all {
			configs[j].Requests = nil
		}
	}
	out.Devices.Config = configs
	return out, nil
}

func hasBindingConditions(claims boundClaims) bool {
	for _, c := range claims {
		if c.Status.Allocation == nil {
			continue
		}
		for _, r := range c.Status.Allocation.Devices.Results {
			if len(r.BindingConditions) > 0 {
				return true
			}
		}
	}
	return false
}

// awaitBindingConditions waits, as upstream's PreBind, until every allocated device with
// binding conditions has them all true; a true binding failure condition or the binding
// timeout (counted from the allocation's timestamp) fails the pod.
func (d *dra) awaitBindingConditions(ctx context.Context, logger klog.Logger, pod *v1.Pod, nodeName string, bound boundClaims) *fwk.Status {
	d.handle.EventRecorder().Eventf(pod, nil, v1.EventTypeNormal, "BindingConditionsPending", "Scheduling",
		"waiting for binding conditions for device on node %s", nodeName)
	err := wait.PollUntilContextTimeout(ctx, d.pollInterval, d.bindingTimeout, true, func(context.Context) (bool, error) {
		for name := range bound {
			claim, err := d.claims.Get(pod.Namespace, name)
			if err != nil {
				return false, err
			}
			bound[name] = claim
			ready, err := claimReadyForBinding(claim)
			if err != nil {
				return false, err
			}
			if !ready {
				if d.claimTimedOut(claim) {
					return false, fmt.Errorf("%w: claim=%s", ErrDeviceBindingTimeout, claim.Name)
				}
				return false, nil
			}
		}
		return true, nil
	})
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ErrDeviceBindingTimeout, err)
	}
	if err != nil {
		logger.V(2).Info("Devices did not become ready for binding", "node", nodeName, "err", err)
		return fwk.AsStatus(err)
	}
	logger.V(4).Info("Binding conditions are met", "node", nodeName)
	return nil
}

// claimReadyForBinding is upstream's isClaimReadyForBinding: true when every binding condition
// of every allocated device is true; an error when a binding failure condition is true.
func claimReadyForBinding(claim *resourceapi.ResourceClaim) (bool, error) {
	if claim.Status.Allocation == nil {
		return false, nil
	}
	for _, r := range claim.Status.Allocation.Devices.Results {
		if len(r.BindingConditions) == 0 {
			continue
		}
		status := deviceStatus(claim, &r)
		if status == nil {
			return false, nil
		}
		for _, cond := range r.BindingFailureConditions {
			if failed := apimeta.FindStatusCondition(status.Conditions, cond); failed != nil && failed.Status == metav1.ConditionTrue {
				return false, fmt.Errorf("%w: claim=%s, reason=%s, message=%q", ErrDeviceBindingFailed, claim.Name, failed.Reason, failed.Message)
			}
		}
		for _, cond := range r.BindingConditions {
			if !apimeta.IsStatusConditionTrue(status.Conditions, cond) {
				return false, nil
			}
		}
	}
	return true, nil
}

func deviceStatus(claim *resourceapi.ResourceClaim, r *resourceapi.DeviceRequestAllocationResult) *resourceapi.AllocatedDeviceStatus {
	for i := range claim.Status.Devices {
		s := &claim.Status.Devices[i]
		if s.Driver == r.Driver && s.Pool == r.Pool && s.Device == r.Device {
			return s
		}
	}
	return nil
}

// claimTimedOut is upstream's isClaimTimeout: the allocation is older than the binding timeout
// and has a device with binding conditions.
func (d *dra) claimTimedOut(claim *resourceapi.ResourceClaim) bool {
	a := claim.Status.Allocation
	if a == nil || a.AllocationTimestamp == nil {
		return false
	}
	for _, r := range a.Devices.Results {
		if r.BindingConditions != nil && a.AllocationTimestamp.Add(d.bindingTimeout).Before(time.Now()) {
			return true
		}
	}
	return false
}

// unreserveClaims removes the pod from the reservations of its allocated claims, with upstream's
// strategic-merge patch (it needs no recent copy of the claim). Errors are logged: the pod's
// next attempt gets here again.
func (d *dra) unreserveClaims(ctx context.Context, logger klog.Logger, state fwk.CycleState, pod *v1.Pod) {
	var claims []*resourceapi.ResourceClaim
	if data, err := state.Read(claimsKey); err == nil {
		if bound, ok := data.(boundClaims); ok {
			for _, c := range bound {
				claims = append(claims, c)
			}
		}
	}
	if claims == nil {
		var err error
		if claims, err = d.podClaims(pod); err != nil {
			logger.V(4).Info("Unreserve: the pod's claims cannot be read", "err", err)
			return
		}
	}
	for _, claim := range claims {
		if claim.Status.Allocation == nil || !resourceclaim.IsReservedForPod(pod, claim, false) {
			continue
		}
		patch := fmt.Sprintf(`{"metadata": {"uid": %q}, "status": { "reservedFor": [ {"$patch": "delete", "uid": %q} ] }}`, claim.UID, pod.UID)
		_, err := d.clientset.ResourceV1().ResourceClaims(claim.Namespace).Patch(ctx, claim.Name, types.StrategicMergePatchType,
			[]byte(patch), metav1.PatchOptions{}, "status")
		if err != nil {
			logger.Error(err, "Unreserve: removing the pod from the claim's reservations failed", "claim", klog.KObj(claim))
			continue
		}
		logger.V(4).Info("Unreserved claim", "claim", klog.KObj(claim))
	}
}

// deallocateUnavailableClaim is upstream's DynamicResources PostFilter: among the pod's
// allocated claims whose devices some node cannot reach (the engine's unavailable_claims), the
// first that no other pod holds is deallocated. It returns nil when there was none.
func (d *dra) deallocateUnavailableClaim(ctx context.Context, logger klog.Logger, pod *v1.Pod, unavailable []string) *fwk.Status {
	if len(unavailable) == 0 {
		return nil
	}
	claims, err := d.podClaims(pod)
	if err != nil {
		logger.V(4).Info("PostFilter: the pod's claims cannot be read", "err", err)
		return nil
	}
	for _, key := range unavailable {
		for _, claim := range claims {
			if claim.Namespace+"/"+claim.Name != key || claim.Status.Allocation == nil {
				continue
			}
			reserved := claim.Status.ReservedFor
			if len(reserved) > 1 || (len(reserved) == 1 && reserved[0].UID != pod.UID) {
				continue
			}
			claim = claim.DeepCopy()
			claim.Status.ReservedFor = nil
			claim.Status.Allocation = nil
			claim.Status.Devices = nil
			logger.V(2).Info("Deallocating claim", "claim", klog.KObj(claim))
			if _, err := d.clientset.ResourceV1().ResourceClaims(claim.Namespace).UpdateStatus(ctx, claim, metav1.UpdateOptions{}); err != nil {
				return fwk.AsStatus(err)
			}
			return fwk.NewStatus(fwk.Unschedulable, "deallocation of ResourceClaim completed")
		}
	}
	return nil
}
