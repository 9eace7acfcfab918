package engineclient

import (
	"fmt"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// The conversions below copy every field the proto carries and nothing else. Absent (nil)
// Kubernetes values stay absent in the proto where the difference matters to scheduling: a nil
// label selector matches nothing while an empty one matches everything, and a nil allocated
// resource list means "not reported".

// NodeToProto converts a Node.
func NodeToProto(n *v1.Node) *sextantv1.Node {
	out := &sextantv1.Node{
		Name:              n.Name,
		Labels:            copyMap(n.Labels),
		Unschedulable:     n.Spec.Unschedulable,
		Capacity:          resourceListToProto(n.Status.Capacity),
		Allocatable:       resourceListToProto(n.Status.Allocatable),
		CreationUnixNanos: unixNanos(n.CreationTimestamp),
	}
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		out.Taints = append(out.Taints, &sextantv1.Taint{Key: t.Key, Value: t.Value, Effect: string(t.Effect)})
	}
	return out
}

// PodToProto converts a Pod.
func PodToProto(p *v1.Pod) *sextantv1.Pod {
	spec, status := &p.Spec, &p.Status
	out := &sextantv1.Pod{
		Namespace:         p.Namespace,
		Name:              p.Name,
		Uid:               string(p.UID),
		Labels:            copyMap(p.Labels),
		CreationUnixNanos: unixNanos(p.CreationTimestamp),
		NodeName:          spec.NodeName,
		SchedulerName:     spec.SchedulerName,
		Priority:          spec.Priority,
		PriorityClassName: spec.PriorityClassName,
		InitContainers:    containersToProto(spec.InitContainers),
		Containers:        containersToProto(spec.Containers),
		Overhead:          resourceListToProto(spec.Overhead),
		NodeSelector:      copyMap(spec.NodeSelector),
		Affinity:          affinityToProto(spec.Affinity),
		Phase:             string(status.Phase),
		NominatedNodeName: status.NominatedNodeName,
		ResizeStatus:      resizeStatus(p),
	}
	if p.DeletionTimestamp != nil {
		out.DeletionUnixNanos = ptr.To(unixNanos(*p.DeletionTimestamp))
	}
	if spec.PreemptionPolicy != nil {
		out.PreemptionPolicy = string(*spec.PreemptionPolicy)
	}
	if spec.Resources != nil {
		out.Resources = &sextantv1.PodResources{
			Requests: resourceListToProto(spec.Resources.Requests),
			Limits:   resourceListToProto(spec.Resources.Limits),
		}
	}
	for i := range spec.Tolerations {
		out.Tolerations = append(out.Tolerations, tolerationToProto(&spec.Tolerations[i]))
	}
	for _, claim := range spec.ResourceClaims {
		out.ResourceClaims = append(out.ResourceClaims, &sextantv1.PodResourceClaim{
			Name: claim.Name, ResourceClaimName: claim.ResourceClaimName, ResourceClaimTemplateName: claim.ResourceClaimTemplateName,
		})
	}
	for _, s := range status.ResourceClaimStatuses {
		out.ResourceClaimStatuses = append(out.ResourceClaimStatuses,
			&sextantv1.PodResourceClaimStatus{Name: s.Name, ResourceClaimName: s.ResourceClaimName})
	}
	for i := range spec.TopologySpreadConstraints {
		out.TopologySpreadConstraints = append(out.TopologySpreadConstraints,
			topologySpreadConstraintToProto(&spec.TopologySpreadConstraints[i]))
	}
	if status.StartTime != nil {
		out.StartUnixNanos = ptr.To(unixNanos(*status.StartTime))
	}
	out.ContainerStatuses = containerStatusesToProto(status.ContainerStatuses)
	out.InitContainerStatuses = containerStatusesToProto(status.InitContainerStatuses)
	out.TerminatingByPreemption = terminatingByPreemption(status)
	return out
}

// terminatingByPreemption is the condition half of upstream's preemption.PodTerminatingByPreemption
// (the engine checks the deletion timestamp itself): DisruptionTarget=True with reason
// PreemptionByScheduler.
func terminatingByPreemption(status *v1.PodStatus) bool {
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type == v1.DisruptionTarget && c.Status == v1.ConditionTrue && c.Reason == v1.PodReasonPreemptionByScheduler {
			return true
		}
	}
	return false
}

// PriorityClassToProto converts a PriorityClass.
func PriorityClassToProto(pc *schedulingv1.PriorityClass) *sextantv1.PriorityClass {
	out := &sextantv1.PriorityClass{Name: pc.Name, Value: pc.Value, GlobalDefault: pc.GlobalDefault}
	if pc.PreemptionPolicy != nil {
		out.PreemptionPolicy = string(*pc.PreemptionPolicy)
	}
	return out
}

// PodDisruptionBudgetToProto converts a PodDisruptionBudget. It fails only on a minAvailable or
// maxUnavailable string that is neither an integer nor a percentage (the API server rejects those).
func PodDisruptionBudgetToProto(pdb *policyv1.PodDisruptionBudget) (*sextantv1.PodDisruptionBudget, error) {
	out := &sextantv1.PodDisruptionBudget{
		Namespace:          pdb.Namespace,
		Name:               pdb.Name,
		Selector:           labelSelectorToProto(pdb.Spec.Selector),
		DisruptionsAllowed: pdb.Status.DisruptionsAllowed,
	}
	var err error
	if out.MinAvailable, err = intOrPercentToProto(pdb.Spec.MinAvailable); err != nil {
		return nil, fmt.Errorf("PodDisruptionBudget %s/%s: spec.minAvailable: %w", pdb.Namespace, pdb.Name, err)
	}
	if out.MaxUnavailable, err = intOrPercentToProto(pdb.Spec.MaxUnavailable); err != nil {
		return nil, fmt.Errorf("PodDisruptionBudget %s/%s: spec.maxUnavailable: %w", pdb.Namespace, pdb.Name, err)
	}
	return out, nil
}

// IsTerminal reports whether a pod has finished; the engine is told such pods are gone, as the
// scheduler's cache forgets them.
func IsTerminal(p *v1.Pod) bool {
	return p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
}

func resourceListToProto(rl v1.ResourceList) *sextantv1.ResourceList {
	if rl == nil {
		return nil
	}
	out := &sextantv1.ResourceList{Items: make(map[string]string, len(rl))}
	for name, q := range rl {
		out.Items[string(name)] = q.String()
	}
	return out
}

func containersToProto(cs []v1.Container) []*sextantv1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*sextantv1.Container, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		pc := &sextantv1.Container{
			Name:     c.Name,
			Requests: resourceListToProto(c.Resources.Requests),
			Limits:   resourceListToProto(c.Resources.Limits),
		}
		if c.RestartPolicy != nil {
			pc.RestartPolicy = ptr.To(string(*c.RestartPolicy))
		}
		out = append(out, pc)
	}
	return out
}

func containerStatusesToProto(ss []v1.ContainerStatus) []*sextantv1.ContainerStatus {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*sextantv1.ContainerStatus, 0, len(ss))
	for i := range ss {
		s := &ss[i]
		ps := &sextantv1.ContainerStatus{
			Name:               s.Name,
			AllocatedResources: resourceListToProto(s.AllocatedResources),
		}
		if s.Resources != nil {
			ps.ResourceRequests = resourceListToProto(s.Resources.Requests)
			ps.ResourceLimits = resourceListToProto(s.Resources.Limits)
		}
		out = append(out, ps)
	}
	return out
}

// resizeStatus is the deprecated status.resize value, derived from the PodResizePending and
// PodResizeInProgress conditions that replaced it ("Infeasible", "Deferred", "InProgress"), so the
// engine can apply upstream's IsPodResizeInfeasible. The condition wins over the old field.
func resizeStatus(p *v1.Pod) string {
	inProgress := false
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		switch c.Type {
		case v1.PodResizePending:
			switch c.Reason {
			case v1.PodReasonInfeasible:
				return string(v1.PodResizeStatusInfeasible)
			case v1.PodReasonDeferred:
				return string(v1.PodResizeStatusDeferred)
			}
		case v1.PodResizeInProgress:
			inProgress = c.Status == v1.ConditionTrue
		}
	}
	if inProgress {
		return string(v1.PodResizeStatusInProgress)
	}
	return string(p.Status.Resize) //nolint:staticcheck // the deprecated field, as a fallback
}

func tolerationToProto(t *v1.Toleration) *sextantv1.Toleration {
	return &sextantv1.Toleration{
		Key:               t.Key,
		Operator:          string(t.Operator),
		Value:             t.Value,
		Effect:            string(t.Effect),
		TolerationSeconds: t.TolerationSeconds,
	}
}

func topologySpreadConstraintToProto(c *v1.TopologySpreadConstraint) *sextantv1.TopologySpreadConstraint {
	out := &sextantv1.TopologySpreadConstraint{
		MaxSkew:           c.MaxSkew,
		TopologyKey:       c.TopologyKey,
		WhenUnsatisfiable: string(c.WhenUnsatisfiable),
		LabelSelector:     labelSelectorToProto(c.LabelSelector),
		MinDomains:        c.MinDomains,
		MatchLabelKeys:    c.MatchLabelKeys,
	}
	if c.NodeAffinityPolicy != nil {
		out.NodeAffinityPolicy = string(*c.NodeAffinityPolicy)
	}
	if c.NodeTaintsPolicy != nil {
		out.NodeTaintsPolicy = string(*c.NodeTaintsPolicy)
	}
	return out
}

func affinityToProto(a *v1.Affinity) *sextantv1.Affinity {
	if a == nil {
		return nil
	}
	out := &sextantv1.Affinity{
		PodAffinity:     podAffinityToProto(a.PodAffinity),
		PodAntiAffinity: podAntiAffinityToProto(a.PodAntiAffinity),
	}
	if na := a.NodeAffinity; na != nil {
		out.NodeAffinity = &sextantv1.NodeAffinity{}
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			ns := &sextantv1.NodeSelector{}
			for i := range req.NodeSelectorTerms {
				ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, nodeSelectorTermToProto(&req.NodeSelectorTerms[i]))
			}
			out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = ns
		}
		for i := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			p := &na.PreferredDuringSchedulingIgnoredDuringExecution[i]
			out.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(
				out.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				&sextantv1.PreferredSchedulingTerm{Weight: p.Weight, Preference: nodeSelectorTermToProto(&p.Preference)})
		}
	}
	return out
}

func podAffinityToProto(a *v1.PodAffinity) *sextantv1.PodAffinity {
	if a == nil {
		return nil
	}
	return podAffinityTermsToProto(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution)
}

func podAntiAffinityToProto(a *v1.PodAntiAffinity) *sextantv1.PodAffinity {
	if a == nil {
		return nil
	}
	return podAffinityTermsToProto(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution)
}

func podAffinityTermsToProto(required []v1.PodAffinityTerm, preferred []v1.WeightedPodAffinityTerm) *sextantv1.PodAffinity {
	out := &sextantv1.PodAffinity{}
	for i := range required {
		out.RequiredDuringSchedulingIgnoredDuringExecution = append(
			out.RequiredDuringSchedulingIgnoredDuringExecution, podAffinityTermToProto(&required[i]))
	}
	for i := range preferred {
		out.PreferredDuringSchedulingIgnoredDuringExecution = append(
			out.PreferredDuringSchedulingIgnoredDuringExecution,
			&sextantv1.WeightedPodAffinityTerm{Weight: preferred[i].Weight, PodAffinityTerm: podAffinityTermToProto(&preferred[i].PodAffinityTerm)})
	}
	return out
}

func podAffinityTermToProto(t *v1.PodAffinityTerm) *sextantv1.PodAffinityTerm {
	return &sextantv1.PodAffinityTerm{
		LabelSelector:     labelSelectorToProto(t.LabelSelector),
		Namespaces:        t.Namespaces,
		TopologyKey:       t.TopologyKey,
		NamespaceSelector: labelSelectorToProto(t.NamespaceSelector),
		MatchLabelKeys:    t.MatchLabelKeys,
		MismatchLabelKeys: t.MismatchLabelKeys,
	}
}

func nodeSelectorTermToProto(t *v1.NodeSelectorTerm) *sextantv1.NodeSelectorTerm {
	out := &sextantv1.NodeSelectorTerm{}
	for i := range t.MatchExpressions {
		r := &t.MatchExpressions[i]
		out.MatchExpressions = append(out.MatchExpressions,
			&sextantv1.SelectorRequirement{Key: r.Key, Operator: string(r.Operator), Values: r.Values})
	}
	for i := range t.MatchFields {
		r := &t.MatchFields[i]
		out.MatchFields = append(out.MatchFields,
			&sextantv1.SelectorRequirement{Key: r.Key, Operator: string(r.Operator), Values: r.Values})
	}
	return out
}

func labelSelectorToProto(s *metav1.LabelSelector) *sextantv1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &sextantv1.LabelSelector{MatchLabels: copyMap(s.MatchLabels)}
	for i := range s.MatchExpressions {
		r := &s.MatchExpressions[i]
		out.MatchExpressions = append(out.MatchExpressions,
			&sextantv1.SelectorRequirement{Key: r.Key, Operator: string(r.Operator), Values: r.Values})
	}
	return out
}

func intOrPercentToProto(v *intstr.IntOrString) (*sextantv1.IntOrPercent, error) {
	if v == nil {
		return nil, nil
	}
	if v.Type == intstr.Int {
		return &sextantv1.IntOrPercent{Value: v.IntVal}, nil
	}
	s := v.StrVal
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseInt(pct, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid percentage %q", s)
		}
		return &sextantv1.IntOrPercent{Value: int32(n), IsPercent: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%q is neither an integer nor a percentage", s)
	}
	return &sextantv1.IntOrPercent{Value: int32(n)}, nil
}

func unixNanos(t metav1.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// NamespaceToProto converts a Namespace: its name and labels, which pod affinity
// namespaceSelectors match.
func NamespaceToProto(ns *v1.Namespace) *sextantv1.Namespace {
	return &sextantv1.Namespace{Name: ns.Name, Labels: copyMap(ns.Labels)}
}
