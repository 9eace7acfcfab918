package engineclient

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

func q(s string) resource.Quantity { return resource.MustParse(s) }

func qp(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }

var gpuNodeSelector = &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
	MatchExpressions: []v1.NodeSelectorRequirement{{Key: "pool", Operator: v1.NodeSelectorOpIn, Values: []string{"gpu"}}},
	MatchFields:      []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}},
}}}

var gpuNodeSelectorProto = &sextantv1.NodeSelector{NodeSelectorTerms: []*sextantv1.NodeSelectorTerm{{
	MatchExpressions: []*sextantv1.SelectorRequirement{{Key: "pool", Operator: "In", Values: []string{"gpu"}}},
	MatchFields:      []*sextantv1.SelectorRequirement{{Key: "metadata.name", Operator: "In", Values: []string{"n1"}}},
}}}

func fullDeviceClass() *resourceapi.DeviceClass {
	return &resourceapi.DeviceClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu.example.com"},
		Spec: resourceapi.DeviceClassSpec{
			Selectors: []resourceapi.DeviceSelector{
				{CEL: &resourceapi.CELDeviceSelector{Expression: `device.driver == "gpu.example.com"`}},
				{}, // a selector type this version does not know
			},
			ExtendedResourceName: ptr.To("example.com/gpu"),
		},
	}
}

func TestDeviceClassToProto(t *testing.T) {
	want := &sextantv1.DeviceClass{
		Name:                 "gpu.example.com",
		Selectors:            []*sextantv1.DeviceSelector{{Cel: ptr.To(`device.driver == "gpu.example.com"`)}, {}},
		ExtendedResourceName: ptr.To("example.com/gpu"),
	}
	if diff := cmp.Diff(want, DeviceClassToProto(fullDeviceClass()), protocmp.Transform()); diff != "" {
		t.Errorf("DeviceClassToProto (-want +got):\n%s", diff)
	}
}

// fullResourceSlice sets every field the proto carries (the compatibility group makes
// uses_disabled_feature true).
func fullResourceSlice() *resourceapi.ResourceSlice {
	return &resourceapi.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "n1-gpu.example.com-abcde"},
		Spec: resourceapi.ResourceSliceSpec{
			Driver:                 "gpu.example.com",
			Pool:                   resourceapi.ResourcePool{Name: "n1", Generation: 3, ResourceSliceCount: 2},
			NodeName:               ptr.To("n1"),
			NodeSelector:           gpuNodeSelector,
			AllNodes:               ptr.To(false),
			PerDeviceNodeSelection: ptr.To(true),
			SharedCounters: []resourceapi.CounterSet{{
				Name: "gpu-0-memory", Counters: map[string]resourceapi.Counter{"memory": {Value: q("80Gi")}},
			}},
			Devices: []resourceapi.Device{{
				Name: "gpu-0",
				Attributes: map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{
					"model":                    {StringValue: ptr.To("H100")},
					"gpu.example.com/numa":     {IntValue: ptr.To[int64](1)},
					"ecc":                      {BoolValue: ptr.To(true)},
					"driverVersion":            {VersionValue: ptr.To("1.2.3")},
					"gpu.example.com/siblings": {IntValues: []int64{1, 2}}, // list-typed: left out
				},
				Capacity: map[resourceapi.QualifiedName]resourceapi.DeviceCapacity{
					"memory": {Value: q("80Gi"), RequestPolicy: &resourceapi.CapacityRequestPolicy{
						Default: qp("1Gi"), ValidValues: []resource.Quantity{q("1Gi"), q("2Gi")},
						ValidRange: &resourceapi.CapacityRequestPolicyRange{Min: qp("1Gi"), Max: qp("80Gi"), Step: qp("1Gi")},
					}},
					"cores": {Value: q("1000m")},
				},
				ConsumesCounters: []resourceapi.DeviceCounterConsumption{{
					CounterSet: "gpu-0-memory", Counters: map[string]resourceapi.Counter{"memory": {Value: q("40Gi")}},
					CompatibilityGroups: []string{"mig"},
				}},
				NodeName:                 ptr.To("n1"),
				NodeSelector:             gpuNodeSelector,
				AllNodes:                 ptr.To(false),
				Taints:                   []resourceapi.DeviceTaint{{Key: "broken", Value: "ecc", Effect: resourceapi.DeviceTaintEffectNoSchedule}},
				BindsToNode:              ptr.To(true),
				BindingConditions:        []string{"Attached"},
				BindingFailureConditions: []string{"AttachFailed"},
				AllowMultipleAllocations: ptr.To(true),
			}},
		},
	}
}

func TestResourceSliceToProto(t *testing.T) {
	want := &sextantv1.ResourceSlice{
		Name: "n1-gpu.example.com-abcde", Driver: "gpu.example.com", PoolName: "n1", PoolGeneration: 3, PoolResourceSliceCount: 2,
		NodeName: ptr.To("n1"), NodeSelector: gpuNodeSelectorProto, AllNodes: ptr.To(false), PerDeviceNodeSelection: ptr.To(true),
		SharedCounters: []*sextantv1.CounterSet{{Name: "gpu-0-memory", Counters: map[string]string{"memory": "80Gi"}}},
		Devices: []*sextantv1.Device{{
			Name: "gpu-0",
			Attributes: map[string]*sextantv1.DeviceAttribute{
				"model":                {Value: &sextantv1.DeviceAttribute_String_{String_: "H100"}},
				"gpu.example.com/numa": {Value: &sextantv1.DeviceAttribute_Int{Int: 1}},
				"ecc":                  {Value: &sextantv1.DeviceAttribute_Bool{Bool: true}},
				"driverVersion":        {Value: &sextantv1.DeviceAttribute_Version{Version: "1.2.3"}},
			},
			Capacity: map[string]*sextantv1.DeviceCapacity{
				"memory": {Value: "80Gi", RequestPolicy: &sextantv1.CapacityRequestPolicy{
					Default: ptr.To("1Gi"), ValidValues: []string{"1Gi", "2Gi"},
					ValidRange: &sextantv1.CapacityRequestPolicyRange{Min: ptr.To("1Gi"), Max: ptr.To("80Gi"), Step: ptr.To("1Gi")},
				}},
				"cores": {Value: "1"},
			},
			ConsumesCounters: []*sextantv1.DeviceCounterConsumption{{CounterSet: "gpu-0-memory", Counters: map[string]string{"memory": "40Gi"}}},
			NodeName:         ptr.To("n1"), NodeSelector: gpuNodeSelectorProto, AllNodes: ptr.To(false),
			Taints:                   []*sextantv1.DeviceTaint{{Key: "broken", Value: "ecc", Effect: "NoSchedule"}},
			BindsToNode:              ptr.To(true),
			BindingConditions:        []string{"Attached"},
			BindingFailureConditions: []string{"AttachFailed"},
			AllowMultipleAllocations: ptr.To(true),
		}},
		UsesDisabledFeature: true,
	}
	if diff := cmp.Diff(want, ResourceSliceToProto(fullResourceSlice()), protocmp.Transform()); diff != "" {
		t.Errorf("ResourceSliceToProto (-want +got):\n%s", diff)
	}
}

// The allocator ignores slices that use a field of an alpha feature that is off; the engine is
// told, whichever of the three fields it is.
func TestResourceSliceUsesDisabledFeature(t *testing.T) {
	plain := func() *resourceapi.ResourceSlice {
		return &resourceapi.ResourceSlice{Spec: resourceapi.ResourceSliceSpec{
			Driver: "d", Pool: resourceapi.ResourcePool{Name: "p", ResourceSliceCount: 1}, AllNodes: ptr.To(true),
			Devices: []resourceapi.Device{{Name: "a", ConsumesCounters: []resourceapi.DeviceCounterConsumption{{CounterSet: "s"}}}},
		}}
	}
	for _, tc := range []struct {
		name string
		edit func(*resourceapi.ResourceSlice)
		want bool
	}{
		{"plain", func(*resourceapi.ResourceSlice) {}, false},
		{"compatibility groups", func(s *resourceapi.ResourceSlice) {
			s.Spec.Devices[0].ConsumesCounters[0].CompatibilityGroups = []string{"g"}
		}, true},
		// Upstream's allocator (v1.37 default gates) allocates from these slices as usual.
		{"partition type attribute", func(s *resourceapi.ResourceSlice) {
			s.Spec.PartitionTypeAttribute = ptr.To[resourceapi.FullyQualifiedName]("d/partition")
		}, false},
		{"skip node operations", func(s *resourceapi.ResourceSlice) {
			s.Spec.SkipNodeOperations = []resourceapi.SkipNodeOperation{resourceapi.SkipNodeOperationAll}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := plain()
			tc.edit(s)
			if got := ResourceSliceToProto(s).UsesDisabledFeature; got != tc.want {
				t.Errorf("uses_disabled_feature = %v, want %v", got, tc.want)
			}
		})
	}
}

func fullResourceClaim() *resourceapi.ResourceClaim {
	allocated := metav1.NewTime(created.Add(10))
	return &resourceapi.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: "web-gpus-x7k2p", UID: "claim-uid", DeletionTimestamp: &deleted,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "web", UID: "uid-1", Controller: ptr.To(true)}},
		},
		Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{
			Requests: []resourceapi.DeviceRequest{
				{Name: "gpus", Exactly: &resourceapi.ExactDeviceRequest{
					DeviceClassName: "gpu.example.com",
					Selectors:       []resourceapi.DeviceSelector{{CEL: &resourceapi.CELDeviceSelector{Expression: "true"}}},
					AllocationMode:  resourceapi.DeviceAllocationModeExactCount, Count: 2, AdminAccess: ptr.To(false),
					Tolerations: []resourceapi.DeviceToleration{{Key: "broken", Operator: resourceapi.DeviceTolerationOpEqual,
						Value: "ecc", Effect: resourceapi.DeviceTaintEffectNoExecute, TolerationSeconds: ptr.To[int64](60)}},
					Capacity:          &resourceapi.CapacityRequirements{Requests: map[resourceapi.QualifiedName]resource.Quantity{"memory": q("10Gi")}},
					DerivedAttributes: []resourceapi.DeviceDerivedAttribute{{Name: "example.com/numa", Expression: "1"}},
				}},
				{Name: "nic", FirstAvailable: []resourceapi.DeviceSubRequest{
					{Name: "fast", DeviceClassName: "nic.example.com", AllocationMode: resourceapi.DeviceAllocationModeAll},
					{Name: "slow", DeviceClassName: "nic.example.com", Count: 1},
				}},
			},
			Constraints: []resourceapi.DeviceConstraint{
				{Requests: []string{"gpus"}, MatchAttribute: ptr.To[resourceapi.FullyQualifiedName]("gpu.example.com/numa")},
				{DistinctAttribute: ptr.To[resourceapi.FullyQualifiedName]("gpu.example.com/uuid")},
			},
		}},
		Status: resourceapi.ResourceClaimStatus{
			Allocation: &resourceapi.AllocationResult{
				Devices: resourceapi.DeviceAllocationResult{Results: []resourceapi.DeviceRequestAllocationResult{{
					Request: "gpus", Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0", AdminAccess: ptr.To(false),
					Tolerations:              []resourceapi.DeviceToleration{{Operator: resourceapi.DeviceTolerationOpExists}},
					BindingConditions:        []string{"Attached"},
					BindingFailureConditions: []string{"AttachFailed"},
					ShareID:                  ptr.To[types.UID]("share-1"),
					ConsumedCapacity:         map[resourceapi.QualifiedName]resource.Quantity{"memory": q("10Gi")},
				}}},
				NodeSelector:        gpuNodeSelector,
				AllocationTimestamp: &allocated,
			},
			ReservedFor: []resourceapi.ResourceClaimConsumerReference{{Resource: "pods", Name: "web", UID: "uid-1"},
				{APIGroup: "example.com", Resource: "jobs", Name: "train", UID: "job-1"}},
			Devices: []resourceapi.AllocatedDeviceStatus{{
				Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0", ShareID: ptr.To("share-1"),
				Conditions: []metav1.Condition{{Type: "Attached", Status: metav1.ConditionTrue}, {Type: "AttachFailed", Status: metav1.ConditionFalse}},
			}},
		},
	}
}

func fullResourceClaimProto() *sextantv1.ResourceClaim {
	return &sextantv1.ResourceClaim{
		Namespace: "ns", Name: "web-gpus-x7k2p", Uid: "claim-uid", DeletionUnixNanos: ptr.To(deleted.UnixNano()),
		ControllerPodUid: "uid-1",
		Requests: []*sextantv1.DeviceRequest{
			{Name: "gpus", Exactly: &sextantv1.DeviceRequestSpec{
				DeviceClassName: "gpu.example.com", Selectors: []*sextantv1.DeviceSelector{{Cel: ptr.To("true")}},
				AllocationMode: "ExactCount", Count: 2, AdminAccess: ptr.To(false),
				Tolerations: []*sextantv1.DeviceToleration{{Key: "broken", Operator: "Equal", Value: "ecc", Effect: "NoExecute",
					TolerationSeconds: ptr.To[int64](60)}},
				Capacity:             &sextantv1.CapacityRequirements{Requests: map[string]string{"memory": "10Gi"}},
				HasDerivedAttributes: true,
			}},
			{Name: "nic", FirstAvailable: []*sextantv1.DeviceSubRequest{
				{Name: "fast", Spec: &sextantv1.DeviceRequestSpec{DeviceClassName: "nic.example.com", AllocationMode: "All"}},
				{Name: "slow", Spec: &sextantv1.DeviceRequestSpec{DeviceClassName: "nic.example.com", Count: 1}},
			}},
		},
		Constraints: []*sextantv1.DeviceConstraint{
			{Requests: []string{"gpus"}, MatchAttribute: ptr.To("gpu.example.com/numa")},
			{DistinctAttribute: ptr.To("gpu.example.com/uuid")},
		},
		Allocation: &sextantv1.AllocationResult{
			Devices: []*sextantv1.DeviceRequestAllocationResult{{
				Request: "gpus", Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0", AdminAccess: ptr.To(false),
				Tolerations:              []*sextantv1.DeviceToleration{{Operator: "Exists"}},
				BindingConditions:        []string{"Attached"},
				BindingFailureConditions: []string{"AttachFailed"},
				ShareId:                  ptr.To("share-1"),
				ConsumedCapacity:         map[string]string{"memory": "10Gi"},
			}},
			NodeSelector:        gpuNodeSelectorProto,
			AllocationUnixNanos: ptr.To(created.Add(10).UnixNano()),
		},
		ReservedFor: []*sextantv1.ResourceClaimConsumerReference{{Resource: "pods", Name: "web", Uid: "uid-1"},
			{ApiGroup: "example.com", Resource: "jobs", Name: "train", Uid: "job-1"}},
		DeviceStatuses: []*sextantv1.AllocatedDeviceStatus{{
			Driver: "gpu.example.com", Pool: "n1", Device: "gpu-0", ShareId: ptr.To("share-1"),
			Conditions: map[string]bool{"Attached": true, "AttachFailed": false},
		}},
	}
}

func TestResourceClaimToProto(t *testing.T) {
	if diff := cmp.Diff(fullResourceClaimProto(), ResourceClaimToProto(fullResourceClaim()), protocmp.Transform()); diff != "" {
		t.Errorf("ResourceClaimToProto (-want +got):\n%s", diff)
	}
}

// controller_pod_uid comes only from a controlling owner that is a core/v1 Pod.
func TestResourceClaimControllerPodUID(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owner metav1.OwnerReference
		want  string
	}{
		{"controlling pod", metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", UID: "p", Controller: ptr.To(true)}, "p"},
		{"pod, not controller", metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", UID: "p"}, ""},
		{"controlling other kind", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", UID: "r", Controller: ptr.To(true)}, ""},
		{"Pod of another group", metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Pod", UID: "x", Controller: ptr.To(true)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{tc.owner}}}
			if got := ResourceClaimToProto(c).ControllerPodUid; got != tc.want {
				t.Errorf("controller_pod_uid = %q, want %q", got, tc.want)
			}
		})
	}
}

// An unallocated claim has no allocation in the proto (absent, not empty).
func TestResourceClaimUnallocated(t *testing.T) {
	c := fullResourceClaim()
	c.Status = resourceapi.ResourceClaimStatus{}
	if got := ResourceClaimToProto(c); got.Allocation != nil || got.ReservedFor != nil || got.DeviceStatuses != nil {
		t.Errorf("unallocated claim converted with status: %v", got)
	}
}

// The engine's allocation converts back to what the API stores, field for field.
func TestAllocationFromProtoRoundTrip(t *testing.T) {
	want := fullResourceClaim().Status.Allocation
	got, err := AllocationFromProto(fullResourceClaimProto().Allocation)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AllocationFromProto (-want +got):\n%s", diff)
	}
}

func TestClaimAllocationFromProtoErrors(t *testing.T) {
	good := func() *sextantv1.ClaimAllocation {
		return &sextantv1.ClaimAllocation{Namespace: "ns", Name: "c", Uid: "u", Allocation: &sextantv1.AllocationResult{
			Devices: []*sextantv1.DeviceRequestAllocationResult{{Request: "r", Driver: "d", Pool: "p", Device: "x"}},
		}}
	}
	if a, err := ClaimAllocationFromProto(good()); err != nil || a.UID != "u" || len(a.Allocation.Devices.Results) != 1 {
		t.Fatalf("ClaimAllocationFromProto(good) = %+v, %v", a, err)
	}
	for name, edit := range map[string]func(*sextantv1.ClaimAllocation){
		"no uid":        func(a *sextantv1.ClaimAllocation) { a.Uid = "" },
		"no allocation": func(a *sextantv1.ClaimAllocation) { a.Allocation = nil },
		"no device":     func(a *sextantv1.ClaimAllocation) { a.Allocation.Devices[0].Device = "" },
		"bad consumed amount": func(a *sextantv1.ClaimAllocation) {
			a.Allocation.Devices[0].ConsumedCapacity = map[string]string{"m": "x"}
		},
	} {
		a := good()
		edit(a)
		if _, err := ClaimAllocationFromProto(a); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
