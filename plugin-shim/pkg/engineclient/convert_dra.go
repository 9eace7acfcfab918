package engineclient

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// Dynamic Resource Allocation (resource.k8s.io/v1): the fields the engine's allocator reads.
// Quantities travel as their String(); list-typed attributes (an alpha feature, off) are left out,
// as the allocator ignores them with the feature off.

// DeviceClassToProto converts a DeviceClass.
func DeviceClassToProto(c *resourceapi.DeviceClass) *sextantv1.DeviceClass {
	return &sextantv1.DeviceClass{
		Name:                 c.Name,
		Selectors:            deviceSelectorsToProto(c.Spec.Selectors),
		ExtendedResourceName: c.Spec.ExtendedResourceName,
	}
}

// ResourceSliceToProto converts a ResourceSlice.
func ResourceSliceToProto(s *resourceapi.ResourceSlice) *sextantv1.ResourceSlice {
	spec := &s.Spec
	out := &sextantv1.ResourceSlice{
		Name:                   s.Name,
		Driver:                 spec.Driver,
		PoolName:               spec.Pool.Name,
		PoolGeneration:         spec.Pool.Generation,
		PoolResourceSliceCount: spec.Pool.ResourceSliceCount,
		NodeName:               spec.NodeName,
		NodeSelector:           nodeSelectorToProto(spec.NodeSelector),
		AllNodes:               spec.AllNodes,
		PerDeviceNodeSelection: spec.PerDeviceNodeSelection,
	}
	for i := range spec.Devices {
		d := &spec.Devices[i]
		out.Devices = append(out.Devices, deviceToProto(d))
		for _, c := range d.ConsumesCounters {
			if len(c.CompatibilityGroups) > 0 {
				out.UsesDisabledFeature = true
			}
		}
	}
	for i := range spec.SharedCounters {
		cs := &spec.SharedCounters[i]
		out.SharedCounters = append(out.SharedCounters, &sextantv1.CounterSet{Name: cs.Name, Counters: countersToProto(cs.Counters)})
	}
	return out
}

func deviceToProto(d *resourceapi.Device) *sextantv1.Device {
	out := &sextantv1.Device{
		Name:                     d.Name,
		NodeName:                 d.NodeName,
		NodeSelector:             nodeSelectorToProto(d.NodeSelector),
		AllNodes:                 d.AllNodes,
		BindsToNode:              d.BindsToNode,
		BindingConditions:        d.BindingConditions,
		BindingFailureConditions: d.BindingFailureConditions,
		AllowMultipleAllocations: d.AllowMultipleAllocations,
	}
	for name, a := range d.Attributes {
		if pa := deviceAttributeToProto(a); pa != nil {
			if out.Attributes == nil {
				out.Attributes = make(map[string]*sextantv1.DeviceAttribute, len(d.Attributes))
			}
			out.Attributes[string(name)] = pa
		}
	}
	if len(d.Capacity) > 0 {
		out.Capacity = make(map[string]*sextantv1.DeviceCapacity, len(d.Capacity))
		for name, c := range d.Capacity {
			out.Capacity[string(name)] = &sextantv1.DeviceCapacity{Value: c.Value.String(), RequestPolicy: requestPolicyToProto(c.RequestPolicy)}
		}
	}
	for _, c := range d.ConsumesCounters {
		out.ConsumesCounters = append(out.ConsumesCounters,
			&sextantv1.DeviceCounterConsumption{CounterSet: c.CounterSet, Counters: countersToProto(c.Counters)})
	}
	for _, t := range d.Taints {
		out.Taints = append(out.Taints, &sextantv1.DeviceTaint{Key: t.Key, Value: t.Value, Effect: string(t.Effect)})
	}
	return out
}

// deviceAttributeToProto returns nil for an attribute with no scalar value (a list-typed one).
func deviceAttributeToProto(a resourceapi.DeviceAttribute) *sextantv1.DeviceAttribute {
	switch {
	case a.IntValue != nil:
		return &sextantv1.DeviceAttribute{Value: &sextantv1.DeviceAttribute_Int{Int: *a.IntValue}}
	case a.BoolValue != nil:
		return &sextantv1.DeviceAttribute{Value: &sextantv1.DeviceAttribute_Bool{Bool: *a.BoolValue}}
	case a.StringValue != nil:
		return &sextantv1.DeviceAttribute{Value: &sextantv1.DeviceAttribute_String_{String_: *a.StringValue}}
	case a.VersionValue != nil:
		return &sextantv1.DeviceAttribute{Value: &sextantv1.DeviceAttribute_Version{Version: *a.VersionValue}}
	}
	return nil
}

func requestPolicyToProto(p *resourceapi.CapacityRequestPolicy) *sextantv1.CapacityRequestPolicy {
	if p == nil {
		return nil
	}
	out := &sextantv1.CapacityRequestPolicy{Default: quantityPtrToProto(p.Default)}
	for _, v := range p.ValidValues {
		out.ValidValues = append(out.ValidValues, v.String())
	}
	if r := p.ValidRange; r != nil {
		out.ValidRange = &sextantv1.CapacityRequestPolicyRange{
			Min: quantityPtrToProto(r.Min), Max: quantityPtrToProto(r.Max), Step: quantityPtrToProto(r.Step),
		}
	}
	return out
}

func countersToProto(counters map[string]resourceapi.Counter) map[string]string {
	if len(counters) == 0 {
		return nil
	}
	out := make(map[string]string, len(counters))
	for name, c := range counters {
		out[name] = c.Value.String()
	}
	return out
}

func quantityPtrToProto(q *resource.Quantity) *string {
	if q == nil {
		return nil
	}
	return ptr.To(q.String())
}

// ResourceClaimToProto converts a ResourceClaim: its requests and constraints, and its status
// (allocation, reservations, device statuses).
func ResourceClaimToProto(c *resourceapi.ResourceClaim) *sextantv1.ResourceClaim {
	out := &sextantv1.ResourceClaim{
		Namespace:        c.Namespace,
		Name:             c.Name,
		Uid:              string(c.UID),
		ControllerPodUid: controllerPodUID(c),
		Allocation:       allocationToProto(c.Status.Allocation),
	}
	if c.DeletionTimestamp != nil {
		out.DeletionUnixNanos = ptr.To(unixNanos(*c.DeletionTimestamp))
	}
	for i := range c.Spec.Devices.Requests {
		r := &c.Spec.Devices.Requests[i]
		pr := &sextantv1.DeviceRequest{Name: r.Name}
		if r.Exactly != nil {
			e := r.Exactly
			pr.Exactly = requestSpecToProto(e.DeviceClassName, e.Selectors, e.AllocationMode, e.Count, e.AdminAccess,
				e.Tolerations, e.Capacity, len(e.DerivedAttributes) > 0)
		}
		for j := range r.FirstAvailable {
			s := &r.FirstAvailable[j]
			pr.FirstAvailable = append(pr.FirstAvailable, &sextantv1.DeviceSubRequest{
				Name: s.Name,
				Spec: requestSpecToProto(s.DeviceClassName, s.Selectors, s.AllocationMode, s.Count, nil,
					s.Tolerations, s.Capacity, len(s.DerivedAttributes) > 0),
			})
		}
		out.Requests = append(out.Requests, pr)
	}
	for i := range c.Spec.Devices.Constraints {
		k := &c.Spec.Devices.Constraints[i]
		out.Constraints = append(out.Constraints, &sextantv1.DeviceConstraint{
			Requests:          k.Requests,
			MatchAttribute:    (*string)(k.MatchAttribute),
			DistinctAttribute: (*string)(k.DistinctAttribute),
		})
	}
	for _, r := range c.Status.ReservedFor {
		out.ReservedFor = append(out.ReservedFor, &sextantv1.ResourceClaimConsumerReference{
			ApiGroup: r.APIGroup, Resource: r.Resource, Name: r.Name, Uid: string(r.UID),
		})
	}
	for i := range c.Status.Devices {
		d := &c.Status.Devices[i]
		pd := &sextantv1.AllocatedDeviceStatus{Driver: d.Driver, Pool: d.Pool, Device: d.Device, ShareId: d.ShareID}
		for _, cond := range d.Conditions {
			if pd.Conditions == nil {
				pd.Conditions = make(map[string]bool, len(d.Conditions))
			}
			pd.Conditions[cond.Type] = cond.Status == metav1.ConditionTrue
		}
		out.DeviceStatuses = append(out.DeviceStatuses, pd)
	}
	return out
}

// controllerPodUID is the UID of the claim's controlling owner when that is a Pod (the claims
// the resourceclaim controller makes from templates).
func controllerPodUID(c *resourceapi.ResourceClaim) string {
	owner := metav1.GetControllerOf(c)
	if owner == nil || owner.APIVersion != "v1" || owner.Kind != "Pod" {
		return ""
	}
	return string(owner.UID)
}

func requestSpecToProto(class string, selectors []resourceapi.DeviceSelector, mode resourceapi.DeviceAllocationMode,
	count int64, adminAccess *bool, tolerations []resourceapi.DeviceToleration, capacity *resourceapi.CapacityRequirements,
	derived bool) *sextantv1.DeviceRequestSpec {
	out := &sextantv1.DeviceRequestSpec{
		DeviceClassName:      class,
		Selectors:            deviceSelectorsToProto(selectors),
		AllocationMode:       string(mode),
		Count:                count,
		AdminAccess:          adminAccess,
		Tolerations:          deviceTolerationsToProto(tolerations),
		HasDerivedAttributes: derived,
	}
	if capacity != nil {
		out.Capacity = &sextantv1.CapacityRequirements{}
		if len(capacity.Requests) > 0 {
			out.Capacity.Requests = make(map[string]string, len(capacity.Requests))
			for name, q := range capacity.Requests {
				out.Capacity.Requests[string(name)] = q.String()
			}
		}
	}
	return out
}

func deviceSelectorsToProto(selectors []resourceapi.DeviceSelector) []*sextantv1.DeviceSelector {
	var out []*sextantv1.DeviceSelector
	for _, s := range selectors {
		ps := &sextantv1.DeviceSelector{}
		if s.CEL != nil {
			ps.Cel = ptr.To(s.CEL.Expression)
		}
		out = append(out, ps)
	}
	return out
}

func deviceTolerationsToProto(ts []resourceapi.DeviceToleration) []*sextantv1.DeviceToleration {
	var out []*sextantv1.DeviceToleration
	for _, t := range ts {
		out = append(out, &sextantv1.DeviceToleration{
			Key: t.Key, Operator: string(t.Operator), Value: t.Value, Effect: string(t.Effect), TolerationSeconds: t.TolerationSeconds,
		})
	}
	return out
}

func allocationToProto(a *resourceapi.AllocationResult) *sextantv1.AllocationResult {
	if a == nil {
		return nil
	}
	out := &sextantv1.AllocationResult{NodeSelector: nodeSelectorToProto(a.NodeSelector)}
	if a.AllocationTimestamp != nil {
		out.AllocationUnixNanos = ptr.To(unixNanos(*a.AllocationTimestamp))
	}
	for i := range a.Devices.Results {
		r := &a.Devices.Results[i]
		pr := &sextantv1.DeviceRequestAllocationResult{
			Request:                  r.Request,
			Driver:                   r.Driver,
			Pool:                     r.Pool,
			Device:                   r.Device,
			AdminAccess:              r.AdminAccess,
			Tolerations:              deviceTolerationsToProto(r.Tolerations),
			BindingConditions:        r.BindingConditions,
			BindingFailureConditions: r.BindingFailureConditions,
			ShareId:                  (*string)(r.ShareID),
		}
		if len(r.ConsumedCapacity) > 0 {
			pr.ConsumedCapacity = make(map[string]string, len(r.ConsumedCapacity))
			for name, q := range r.ConsumedCapacity {
				pr.ConsumedCapacity[string(name)] = q.String()
			}
		}
		out.Devices = append(out.Devices, pr)
	}
	return out
}

func nodeSelectorToProto(s *v1.NodeSelector) *sextantv1.NodeSelector {
	if s == nil {
		return nil
	}
	out := &sextantv1.NodeSelector{}
	for i := range s.NodeSelectorTerms {
		out.NodeSelectorTerms = append(out.NodeSelectorTerms, nodeSelectorTermToProto(&s.NodeSelectorTerms[i]))
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// The engine's allocations (AssumeResponse) back to the API's types.

// ClaimAllocation is a claim the engine allocated for an assumed pod (AssumeResponse.allocations):
// what PreBind writes to the claim's status.
type ClaimAllocation struct {
	Namespace, Name string
	UID             types.UID
	// Allocation has the device results and the node selector; the configuration is added from
	// the class and the claim when it is written.
	Allocation *resourceapi.AllocationResult
}

// ClaimAllocationFromProto checks and converts one of AssumeResponse.allocations. It fails on a
// missing field or an invalid quantity.
func ClaimAllocationFromProto(a *sextantv1.ClaimAllocation) (ClaimAllocation, error) {
	if a.Name == "" || a.Uid == "" {
		return ClaimAllocation{}, fmt.Errorf("allocation for claim %s/%s has no name or uid", a.Namespace, a.Name)
	}
	alloc, err := AllocationFromProto(a.Allocation)
	if err != nil {
		return ClaimAllocation{}, fmt.Errorf("claim %s/%s: %w", a.Namespace, a.Name, err)
	}
	return ClaimAllocation{Namespace: a.Namespace, Name: a.Name, UID: types.UID(a.Uid), Allocation: alloc}, nil
}

// AllocationFromProto converts an engine's AllocationResult (device results, node selector and
// timestamp; the proto carries no configuration).
func AllocationFromProto(a *sextantv1.AllocationResult) (*resourceapi.AllocationResult, error) {
	if a == nil {
		return nil, fmt.Errorf("no allocation")
	}
	out := &resourceapi.AllocationResult{NodeSelector: nodeSelectorFromProto(a.NodeSelector)}
	if a.AllocationUnixNanos != nil {
		t := metav1.NewTime(time.Unix(0, *a.AllocationUnixNanos))
		out.AllocationTimestamp = &t
	}
	for i, r := range a.Devices {
		if r.Request == "" || r.Driver == "" || r.Pool == "" || r.Device == "" {
			return nil, fmt.Errorf("devices[%d] lacks its request, driver, pool or device", i)
		}
		res := resourceapi.DeviceRequestAllocationResult{
			Request:                  r.Request,
			Driver:                   r.Driver,
			Pool:                     r.Pool,
			Device:                   r.Device,
			AdminAccess:              r.AdminAccess,
			BindingConditions:        r.BindingConditions,
			BindingFailureConditions: r.BindingFailureConditions,
			ShareID:                  (*types.UID)(r.ShareId),
		}
		for _, t := range r.Tolerations {
			res.Tolerations = append(res.Tolerations, resourceapi.DeviceToleration{
				Key: t.Key, Operator: resourceapi.DeviceTolerationOperator(t.Operator), Value: t.Value,
				Effect: resourceapi.DeviceTaintEffect(t.Effect), TolerationSeconds: t.TolerationSeconds,
			})
		}
		if len(r.ConsumedCapacity) > 0 {
			res.ConsumedCapacity = make(map[resourceapi.QualifiedName]resource.Quantity, len(r.ConsumedCapacity))
			for name, s := range r.ConsumedCapacity {
				q, err := resource.ParseQuantity(s)
				if err != nil {
					return nil, fmt.Errorf("devices[%d].consumed_capacity[%s]: %w", i, name, err)
				}
				res.ConsumedCapacity[resourceapi.QualifiedName(name)] = q
			}
		}
		out.Devices.Results = append(out.Devices.Results, res)
	}
	return out, nil
}

func nodeSelectorFromProto(s *sextantv1.NodeSelector) *v1.NodeSelector {
	if s == nil {
		return nil
	}
	out := &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{}}
	requirements := func(rs []*sextantv1.SelectorRequirement) []v1.NodeSelectorRequirement {
		var out []v1.NodeSelectorRequirement
		for _, r := range rs {
			out = append(out, v1.NodeSelectorRequirement{Key: r.Key, Operator: v1.NodeSelectorOperator(r.Operator), Values: r.Values})
		}
		return out
	}
	for _, t := range s.NodeSelectorTerms {
		out.NodeSelectorTerms = append(out.NodeSelectorTerms, v1.NodeSelectorTerm{
			MatchExpressions: requirements(t.MatchExpressions),
			MatchFields:      requirements(t.MatchFields),
		})
	}
	return out
}
