package engineclient

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

var (
	created = metav1.NewTime(time.Unix(1700000000, 123))
	deleted = metav1.NewTime(time.Unix(1700000100, 0))
	started = metav1.NewTime(time.Unix(1700000050, 0))
)

func rl(pairs ...string) v1.ResourceList {
	out := v1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func prl(pairs ...string) *sextantv1.ResourceList {
	out := &sextantv1.ResourceList{Items: map[string]string{}}
	for i := 0; i < len(pairs); i += 2 {
		out.Items[pairs[i]] = pairs[i+1]
	}
	return out
}

// fullPod sets every field the proto carries.
func fullPod() *v1.Pod {
	always := v1.ContainerRestartPolicyAlways
	never := v1.PreemptLowerPriority
	honor, ignore := v1.NodeInclusionPolicyHonor, v1.NodeInclusionPolicyIgnore
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: "web", UID: "uid-1", Labels: map[string]string{"app": "web"},
			CreationTimestamp: created, DeletionTimestamp: &deleted,
		},
		Spec: v1.PodSpec{
			NodeName:          "n1",
			SchedulerName:     "sextant",
			Priority:          ptr.To[int32](100),
			PriorityClassName: "high",
			PreemptionPolicy:  &never,
			InitContainers: []v1.Container{
				{Name: "init", Resources: v1.ResourceRequirements{Requests: rl("cpu", "1"), Limits: rl("cpu", "2")}},
				{Name: "sidecar", RestartPolicy: &always, Resources: v1.ResourceRequirements{Requests: rl("memory", "64Mi")}},
			},
			Containers: []v1.Container{
				{Name: "app", Resources: v1.ResourceRequirements{Requests: rl("cpu", "500m", "memory", "1Gi"), Limits: rl("memory", "2Gi")}},
			},
			Overhead:     rl("cpu", "10m"),
			Resources:    &v1.ResourceRequirements{Requests: rl("cpu", "3"), Limits: rl("cpu", "4")},
			NodeSelector: map[string]string{"disk": "ssd"},
			Affinity: &v1.Affinity{
				NodeAffinity: &v1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
						MatchExpressions: []v1.NodeSelectorRequirement{{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"a", "b"}}},
						MatchFields:      []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpNotIn, Values: []string{"n9"}}},
					}}},
					PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{{
						Weight:     5,
						Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "gpu", Operator: v1.NodeSelectorOpExists}}},
					}},
				},
				PodAffinity: &v1.PodAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
						LabelSelector: &metav1.LabelSelector{
							MatchLabels:      map[string]string{"app": "db"},
							MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"x"}}},
						},
						Namespaces:        []string{"ns", "other"},
						TopologyKey:       "kubernetes.io/hostname",
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
						MatchLabelKeys:    []string{"pod-template-hash"},
						MismatchLabelKeys: []string{"tenant"},
					}},
				},
				PodAntiAffinity: &v1.PodAntiAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []v1.WeightedPodAffinityTerm{{
						Weight:          7,
						PodAffinityTerm: v1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{}, TopologyKey: "zone"},
					}},
				},
			},
			ResourceClaims: []v1.PodResourceClaim{
				{Name: "gpus", ResourceClaimTemplateName: ptr.To("two-gpus")},
				{Name: "shared", ResourceClaimName: ptr.To("team-nic")},
			},
			Tolerations: []v1.Toleration{
				{Key: "gpu", Operator: v1.TolerationOpEqual, Value: "true", Effect: v1.TaintEffectNoSchedule},
				{Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](30)},
			},
			TopologySpreadConstraints: []v1.TopologySpreadConstraint{{
				MaxSkew: 2, TopologyKey: "zone", WhenUnsatisfiable: v1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				MinDomains:    ptr.To[int32](3), NodeAffinityPolicy: &honor, NodeTaintsPolicy: &ignore,
				MatchLabelKeys: []string{"pod-template-hash"},
			}},
		},
		Status: v1.PodStatus{
			Phase:             v1.PodRunning,
			StartTime:         &started,
			NominatedNodeName: "n2",
			Conditions: []v1.PodCondition{{Type: v1.PodResizePending, Status: v1.ConditionTrue, Reason: v1.PodReasonInfeasible},
				{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}},
			ContainerStatuses: []v1.ContainerStatus{{
				Name:               "app",
				AllocatedResources: rl("cpu", "500m"),
				Resources:          &v1.ResourceRequirements{Requests: rl("cpu", "250m"), Limits: rl("cpu", "1")},
			}},
			InitContainerStatuses: []v1.ContainerStatus{{Name: "sidecar", AllocatedResources: rl("memory", "64Mi")}},
			ResourceClaimStatuses: []v1.PodResourceClaimStatus{{Name: "gpus", ResourceClaimName: ptr.To("web-gpus-x7k2p")}},
		},
	}
}

func fullPodProto() *sextantv1.Pod {
	return &sextantv1.Pod{
		Namespace: "ns", Name: "web", Uid: "uid-1", Labels: map[string]string{"app": "web"},
		CreationUnixNanos: created.UnixNano(), DeletionUnixNanos: ptr.To(deleted.UnixNano()),
		NodeName: "n1", SchedulerName: "sextant", Priority: ptr.To[int32](100), PriorityClassName: "high",
		PreemptionPolicy: "PreemptLowerPriority",
		InitContainers: []*sextantv1.Container{
			{Name: "init", Requests: prl("cpu", "1"), Limits: prl("cpu", "2")},
			{Name: "sidecar", Requests: prl("memory", "64Mi"), RestartPolicy: ptr.To("Always")},
		},
		Containers: []*sextantv1.Container{
			{Name: "app", Requests: prl("cpu", "500m", "memory", "1Gi"), Limits: prl("memory", "2Gi")},
		},
		Overhead:     prl("cpu", "10m"),
		Resources:    &sextantv1.PodResources{Requests: prl("cpu", "3"), Limits: prl("cpu", "4")},
		NodeSelector: map[string]string{"disk": "ssd"},
		Affinity: &sextantv1.Affinity{
			NodeAffinity: &sextantv1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &sextantv1.NodeSelector{NodeSelectorTerms: []*sextantv1.NodeSelectorTerm{{
					MatchExpressions: []*sextantv1.SelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"a", "b"}}},
					MatchFields:      []*sextantv1.SelectorRequirement{{Key: "metadata.name", Operator: "NotIn", Values: []string{"n9"}}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []*sextantv1.PreferredSchedulingTerm{{
					Weight:     5,
					Preference: &sextantv1.NodeSelectorTerm{MatchExpressions: []*sextantv1.SelectorRequirement{{Key: "gpu", Operator: "Exists"}}},
				}},
			},
			PodAffinity: &sextantv1.PodAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []*sextantv1.PodAffinityTerm{{
					LabelSelector: &sextantv1.LabelSelector{
						MatchLabels:      map[string]string{"app": "db"},
						MatchExpressions: []*sextantv1.SelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"x"}}},
					},
					Namespaces:        []string{"ns", "other"},
					TopologyKey:       "kubernetes.io/hostname",
					NamespaceSelector: &sextantv1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
					MatchLabelKeys:    []string{"pod-template-hash"},
					MismatchLabelKeys: []string{"tenant"},
				}},
			},
			PodAntiAffinity: &sextantv1.PodAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []*sextantv1.WeightedPodAffinityTerm{{
					Weight:          7,
					PodAffinityTerm: &sextantv1.PodAffinityTerm{LabelSelector: &sextantv1.LabelSelector{}, TopologyKey: "zone"},
				}},
			},
		},
		ResourceClaims: []*sextantv1.PodResourceClaim{
			{Name: "gpus", ResourceClaimTemplateName: ptr.To("two-gpus")},
			{Name: "shared", ResourceClaimName: ptr.To("team-nic")},
		},
		ResourceClaimStatuses: []*sextantv1.PodResourceClaimStatus{{Name: "gpus", ResourceClaimName: ptr.To("web-gpus-x7k2p")}},
		Tolerations: []*sextantv1.Toleration{
			{Key: "gpu", Operator: "Equal", Value: "true", Effect: "NoSchedule"},
			{Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To[int64](30)},
		},
		TopologySpreadConstraints: []*sextantv1.TopologySpreadConstraint{{
			MaxSkew: 2, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule",
			LabelSelector: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			MinDomains:    ptr.To[int32](3), NodeAffinityPolicy: "Honor", NodeTaintsPolicy: "Ignore",
			MatchLabelKeys: []string{"pod-template-hash"},
		}},
		Phase: "Running", StartUnixNanos: ptr.To(started.UnixNano()), NominatedNodeName: "n2",
		ContainerStatuses: []*sextantv1.ContainerStatus{{
			Name: "app", AllocatedResources: prl("cpu", "500m"),
			ResourceRequests: prl("cpu", "250m"), ResourceLimits: prl("cpu", "1"),
		}},
		InitContainerStatuses:   []*sextantv1.ContainerStatus{{Name: "sidecar", AllocatedResources: prl("memory", "64Mi")}},
		ResizeStatus:            "Infeasible",
		TerminatingByPreemption: true,
	}
}

func fullNode() *v1.Node {
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}, CreationTimestamp: created},
		Spec: v1.NodeSpec{
			Unschedulable: true,
			Taints:        []v1.Taint{{Key: "gpu", Value: "true", Effect: v1.TaintEffectNoSchedule}},
		},
		Status: v1.NodeStatus{
			Capacity:    rl("cpu", "8", "memory", "32Gi", "pods", "110", "nvidia.com/gpu", "4"),
			Allocatable: rl("cpu", "7800m", "memory", "31Gi", "pods", "110", "nvidia.com/gpu", "4"),
		},
	}
}

func fullPriorityClass() *schedulingv1.PriorityClass {
	never := v1.PreemptNever
	return &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000, GlobalDefault: true, PreemptionPolicy: &never,
	}
}

func fullPDB() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"app": "web"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "track", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"canary"}}},
			},
			MinAvailable:   ptr.To(intstr.FromString("50%")),
			MaxUnavailable: ptr.To(intstr.FromInt32(2)),
		},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1},
	}
}

func TestPodToProtoEveryField(t *testing.T) {
	got := PodToProto(fullPod())
	if diff := cmp.Diff(fullPodProto(), got, protocmp.Transform()); diff != "" {
		t.Errorf("PodToProto (-want +got):\n%s", diff)
	}
}

func TestNodeToProtoEveryField(t *testing.T) {
	want := &sextantv1.Node{
		Name: "n1", Labels: map[string]string{"zone": "a"},
		Taints:            []*sextantv1.Taint{{Key: "gpu", Value: "true", Effect: "NoSchedule"}},
		Unschedulable:     true,
		Capacity:          prl("cpu", "8", "memory", "32Gi", "pods", "110", "nvidia.com/gpu", "4"),
		Allocatable:       prl("cpu", "7800m", "memory", "31Gi", "pods", "110", "nvidia.com/gpu", "4"),
		CreationUnixNanos: created.UnixNano(),
	}
	if diff := cmp.Diff(want, NodeToProto(fullNode()), protocmp.Transform()); diff != "" {
		t.Errorf("NodeToProto (-want +got):\n%s", diff)
	}
}

func TestPriorityClassToProto(t *testing.T) {
	want := &sextantv1.PriorityClass{Name: "high", Value: 1000, GlobalDefault: true, PreemptionPolicy: "Never"}
	if diff := cmp.Diff(want, PriorityClassToProto(fullPriorityClass()), protocmp.Transform()); diff != "" {
		t.Errorf("PriorityClassToProto (-want +got):\n%s", diff)
	}
	unset := PriorityClassToProto(&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "low"}, Value: -5})
	if unset.PreemptionPolicy != "" || unset.Value != -5 {
		t.Errorf("PriorityClassToProto(no policy) = %v", unset)
	}
}

func TestPodDisruptionBudgetToProto(t *testing.T) {
	tests := []struct {
		name           string
		minAvailable   *intstr.IntOrString
		maxUnavailable *intstr.IntOrString
		selector       *metav1.LabelSelector
		want           *sextantv1.PodDisruptionBudget
		wantErr        string
	}{
		{
			name:         "percent minAvailable, int maxUnavailable",
			minAvailable: ptr.To(intstr.FromString("50%")), maxUnavailable: ptr.To(intstr.FromInt32(2)),
			selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			want: &sextantv1.PodDisruptionBudget{Namespace: "ns", Name: "web",
				Selector:     &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				MinAvailable: &sextantv1.IntOrPercent{Value: 50, IsPercent: true}, MaxUnavailable: &sextantv1.IntOrPercent{Value: 2},
				DisruptionsAllowed: 1},
		},
		{
			name:         "nil selector stays absent (selects nothing), integer string",
			minAvailable: ptr.To(intstr.FromString("3")),
			want: &sextantv1.PodDisruptionBudget{Namespace: "ns", Name: "web",
				MinAvailable: &sextantv1.IntOrPercent{Value: 3}, DisruptionsAllowed: 1},
		},
		{
			name:     "empty selector is present (selects all)",
			selector: &metav1.LabelSelector{}, maxUnavailable: ptr.To(intstr.FromString("100%")),
			want: &sextantv1.PodDisruptionBudget{Namespace: "ns", Name: "web", Selector: &sextantv1.LabelSelector{},
				MaxUnavailable: &sextantv1.IntOrPercent{Value: 100, IsPercent: true}, DisruptionsAllowed: 1},
		},
		{name: "invalid string", minAvailable: ptr.To(intstr.FromString("half")), wantErr: "spec.minAvailable"},
		{name: "invalid percent", maxUnavailable: ptr.To(intstr.FromString("x%")), wantErr: "spec.maxUnavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pdb := fullPDB()
			pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable, pdb.Spec.Selector = tc.minAvailable, tc.maxUnavailable, tc.selector
			got, err := PodDisruptionBudgetToProto(pdb)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "ns/web") {
					t.Fatalf("error = %v, want one naming ns/web and %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Quantities travel as resource.Quantity's canonical String(), which the engine parses exactly.
func TestQuantitiesAsCanonicalStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"500m", "500m"},
		{"1.5", "1500m"},
		{"1Gi", "1Gi"},
		{"0.5Gi", "512Mi"},
		{"1000Mi", "1000Mi"},
		{"2e3", "2e3"},
		{"12e6", "12e6"},
		{"1G", "1G"},
		{"0", "0"},
		{"100", "100"},
		{"1.0001", "1000100u"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := resourceListToProto(rl("cpu", tc.in)).Items["cpu"]
			if got != tc.want {
				t.Errorf("quantity %q sent as %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestContainersInitAndSidecar(t *testing.T) {
	always := v1.ContainerRestartPolicyAlways
	pod := &v1.Pod{Spec: v1.PodSpec{
		InitContainers: []v1.Container{
			{Name: "setup", Resources: v1.ResourceRequirements{Requests: rl("cpu", "2")}},
			{Name: "proxy", RestartPolicy: &always, Resources: v1.ResourceRequirements{Requests: rl("cpu", "100m")}},
			{Name: "no-resources"},
		},
		Containers: []v1.Container{{Name: "app"}},
	}}
	got := PodToProto(pod)
	want := []*sextantv1.Container{
		{Name: "setup", Requests: prl("cpu", "2")},
		{Name: "proxy", Requests: prl("cpu", "100m"), RestartPolicy: ptr.To("Always")},
		{Name: "no-resources"},
	}
	if diff := cmp.Diff(want, got.InitContainers, protocmp.Transform()); diff != "" {
		t.Errorf("init containers (-want +got):\n%s", diff)
	}
	if got.InitContainers[0].RestartPolicy != nil {
		t.Error("a regular init container must have no restart_policy (only sidecars do)")
	}
	if c := got.Containers[0]; c.Requests != nil || c.Limits != nil {
		t.Errorf("a container without resources must have absent lists, got %v", c)
	}
}

func TestAffinityNilAndEmptySelectors(t *testing.T) {
	tests := []struct {
		name string
		in   *v1.Affinity
		want *sextantv1.Affinity
	}{
		{name: "nil affinity", in: nil, want: nil},
		{name: "empty node affinity", in: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{}},
			want: &sextantv1.Affinity{NodeAffinity: &sextantv1.NodeAffinity{}}},
		{
			name: "nil term selector matches nothing, empty matches all",
			in: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
				{TopologyKey: "zone"},
				{TopologyKey: "zone", LabelSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{}},
			}}},
			want: &sextantv1.Affinity{PodAntiAffinity: &sextantv1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*sextantv1.PodAffinityTerm{
				{TopologyKey: "zone"},
				{TopologyKey: "zone", LabelSelector: &sextantv1.LabelSelector{}, NamespaceSelector: &sextantv1.LabelSelector{}},
			}}},
		},
		{
			name: "node selector term with only fields",
			in: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}}}},
			}}},
			want: &sextantv1.Affinity{NodeAffinity: &sextantv1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &sextantv1.NodeSelector{
				NodeSelectorTerms: []*sextantv1.NodeSelectorTerm{{MatchFields: []*sextantv1.SelectorRequirement{{Key: "metadata.name", Operator: "In", Values: []string{"n1"}}}}},
			}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodToProto(&v1.Pod{Spec: v1.PodSpec{Affinity: tc.in}}).Affinity
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	got := PodToProto(&v1.Pod{Spec: v1.PodSpec{Affinity: &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{TopologyKey: "zone"}},
	}}}}).Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	if got.LabelSelector != nil {
		t.Error("a nil label selector must stay absent")
	}
}

func TestTolerations(t *testing.T) {
	tests := []struct {
		name string
		in   v1.Toleration
		want *sextantv1.Toleration
	}{
		{"equal", v1.Toleration{Key: "k", Operator: v1.TolerationOpEqual, Value: "v", Effect: v1.TaintEffectNoSchedule},
			&sextantv1.Toleration{Key: "k", Operator: "Equal", Value: "v", Effect: "NoSchedule"}},
		{"operator left empty stays empty (engine defaults Equal)", v1.Toleration{Key: "k", Value: "v"},
			&sextantv1.Toleration{Key: "k", Value: "v"}},
		{"exists everything", v1.Toleration{Operator: v1.TolerationOpExists},
			&sextantv1.Toleration{Operator: "Exists"}},
		{"noexecute with seconds", v1.Toleration{Key: "k", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](0)},
			&sextantv1.Toleration{Key: "k", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr.To[int64](0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodToProto(&v1.Pod{Spec: v1.PodSpec{Tolerations: []v1.Toleration{tc.in}}}).Tolerations[0]
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestResizeStatus(t *testing.T) {
	tests := []struct {
		name       string
		conditions []v1.PodCondition
		old        v1.PodResizeStatus
		want       string
	}{
		{name: "none"},
		{name: "pending infeasible", conditions: []v1.PodCondition{{Type: v1.PodResizePending, Status: v1.ConditionTrue, Reason: v1.PodReasonInfeasible}}, want: "Infeasible"},
		{name: "pending deferred", conditions: []v1.PodCondition{{Type: v1.PodResizePending, Status: v1.ConditionTrue, Reason: v1.PodReasonDeferred}}, want: "Deferred"},
		{name: "in progress", conditions: []v1.PodCondition{{Type: v1.PodResizeInProgress, Status: v1.ConditionTrue}}, want: "InProgress"},
		{name: "condition wins over the deprecated field", old: v1.PodResizeStatusInProgress,
			conditions: []v1.PodCondition{{Type: v1.PodResizePending, Status: v1.ConditionTrue, Reason: v1.PodReasonInfeasible}}, want: "Infeasible"},
		{name: "deprecated field alone", old: v1.PodResizeStatusDeferred, want: "Deferred"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &v1.Pod{Status: v1.PodStatus{Conditions: tc.conditions, Resize: tc.old}} //nolint:staticcheck
			if got := PodToProto(pod).ResizeStatus; got != tc.want {
				t.Errorf("resize_status = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAbsentFieldsStayAbsent(t *testing.T) {
	got := PodToProto(&v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}})
	want := &sextantv1.Pod{Namespace: "ns", Name: "p"}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	status := PodToProto(&v1.Pod{Status: v1.PodStatus{ContainerStatuses: []v1.ContainerStatus{{Name: "c"}}}}).ContainerStatuses[0]
	if status.AllocatedResources != nil || status.ResourceRequests != nil || status.ResourceLimits != nil {
		t.Errorf("unreported container resources must stay absent, got %v", status)
	}
	reported := PodToProto(&v1.Pod{Status: v1.PodStatus{ContainerStatuses: []v1.ContainerStatus{{Name: "c", AllocatedResources: v1.ResourceList{}}}}}).ContainerStatuses[0]
	if reported.AllocatedResources == nil {
		t.Error("an empty but reported allocatedResources must be present")
	}
}

func TestIsTerminal(t *testing.T) {
	for phase, want := range map[v1.PodPhase]bool{
		v1.PodPending: false, v1.PodRunning: false, v1.PodUnknown: false, "": false,
		v1.PodSucceeded: true, v1.PodFailed: true,
	} {
		if got := IsTerminal(&v1.Pod{Status: v1.PodStatus{Phase: phase}}); got != want {
			t.Errorf("IsTerminal(%q) = %v, want %v", phase, got, want)
		}
	}
}

// TestEveryProtoFieldIsConverted walks the proto schemas from Pod, Node, PriorityClass,
// PodDisruptionBudget, DeviceClass, ResourceSlice and ResourceClaim and checks that the fully
// populated objects set every field somewhere, so a field added to the proto without a
// conversion fails here.
func TestEveryProtoFieldIsConverted(t *testing.T) {
	pdb, err := PodDisruptionBudgetToProto(fullPDB())
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []proto.Message{PodToProto(fullPod()), NodeToProto(fullNode()), PriorityClassToProto(fullPriorityClass()), pdb,
		DeviceClassToProto(fullDeviceClass()), ResourceSliceToProto(fullResourceSlice()), ResourceClaimToProto(fullResourceClaim())} {
		t.Run(string(msg.ProtoReflect().Descriptor().Name()), func(t *testing.T) {
			seen := map[protoreflect.FullName]bool{}
			collectSetFields(msg.ProtoReflect(), seen)
			all := map[protoreflect.FullName]bool{}
			collectSchemaFields(msg.ProtoReflect().Descriptor(), all, map[protoreflect.FullName]bool{})
			var missing []string
			for name := range all {
				if !seen[name] {
					missing = append(missing, string(name))
				}
			}
			// Proto3 booleans and zero numbers read as unset: is_percent is set by the percent
			// case above, the integer case leaves it false by design.
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("proto fields never set by the conversion of a fully populated object: %v", missing)
			}
		})
	}
}

func collectSetFields(m protoreflect.Message, seen map[protoreflect.FullName]bool) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		seen[fd.FullName()] = true
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				collectSetFields(v.List().Get(i).Message(), seen)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				collectSetFields(mv.Message(), seen)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			collectSetFields(v.Message(), seen)
		}
		return true
	})
}

func collectSchemaFields(md protoreflect.MessageDescriptor, all, visited map[protoreflect.FullName]bool) {
	if visited[md.FullName()] {
		return
	}
	visited[md.FullName()] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		all[fd.FullName()] = true
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				collectSchemaFields(fd.MapValue().Message(), all, visited)
			}
		case fd.Message() != nil:
			collectSchemaFields(fd.Message(), all, visited)
		}
	}
}

func TestPodToProtoTerminatingByPreemption(t *testing.T) {
	for _, tc := range []struct {
		name string
		cond v1.PodCondition
		want bool
	}{
		{"preempted by the scheduler", v1.PodCondition{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}, true},
		{"condition false", v1.PodCondition{Type: v1.DisruptionTarget, Status: v1.ConditionFalse, Reason: v1.PodReasonPreemptionByScheduler}, false},
		{"evicted by the API", v1.PodCondition{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: "EvictionByEvictionAPI"}, false},
		{"another condition", v1.PodCondition{Type: v1.PodReady, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fullPod()
			p.Status.Conditions = []v1.PodCondition{tc.cond}
			if got := PodToProto(p).TerminatingByPreemption; got != tc.want {
				t.Errorf("terminating_by_preemption = %v, want %v", got, tc.want)
			}
		})
	}
}
