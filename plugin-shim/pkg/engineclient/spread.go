package engineclient

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/helper"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// SpreadListers are the listers upstream's PodTopologySpread reads to build a pod's default
// constraints (helper.DefaultSelector).
type SpreadListers struct {
	Services               corelisters.ServiceLister
	ReplicationControllers corelisters.ReplicationControllerLister
	ReplicaSets            appslisters.ReplicaSetLister
	StatefulSets           appslisters.StatefulSetLister
}

// DefaultSpreadSelector is the selector PodTopologySpread's default constraints count pods with,
// as upstream computes it: helper.DefaultSelector over the pod's Services and its controlling
// ReplicationController, ReplicaSet or StatefulSet. It is nil when the pod has constraints of
// its own (upstream then never builds default ones) and when the selector is empty (upstream
// then applies no default constraint). It fails only on a requirement a LabelSelector cannot
// express (Gt, Lt), which helper.DefaultSelector never produces.
func DefaultSpreadSelector(pod *v1.Pod, l SpreadListers) (*sextantv1.LabelSelector, error) {
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		return nil, nil
	}
	sel := helper.DefaultSelector(pod, l.Services, l.ReplicationControllers, l.ReplicaSets, l.StatefulSets)
	out, err := SelectorToProto(sel)
	if err != nil {
		return nil, fmt.Errorf("default spread selector of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return out, nil
}

// SelectorToProto converts a labels.Selector to the proto LabelSelector that matches the same
// label sets. Every requirement must hold (the selector is a conjunction):
//   - = and == become match_labels, or an In expression with the one value when match_labels
//     already holds the key with another value (k=a and k=b together match nothing; a map
//     cannot hold both);
//   - != becomes NotIn with the one value (both match a missing key);
//   - in, notin, exists and ! become In, NotIn, Exists and DoesNotExist, values sorted.
//
// gt and lt have no LabelSelector form and are an error. An empty selector (no requirement)
// converts to nil: the proto's "absent" ("no default constraints"), not "match everything". A
// selector that matches nothing (labels.Nothing, whose Requirements are not selectable) is an
// error too.
func SelectorToProto(sel labels.Selector) (*sextantv1.LabelSelector, error) {
	if sel == nil || sel.Empty() {
		return nil, nil
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil, fmt.Errorf("selector %q matches nothing and has no LabelSelector form", sel.String())
	}
	out := &sextantv1.LabelSelector{}
	expr := func(r *labels.Requirement, op string, values []string) {
		out.MatchExpressions = append(out.MatchExpressions, &sextantv1.SelectorRequirement{Key: r.Key(), Operator: op, Values: values})
	}
	for i := range reqs {
		r := &reqs[i]
		values := r.Values().List()
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals:
			if len(values) != 1 {
				return nil, fmt.Errorf("requirement %q: %s needs exactly one value", r.String(), r.Operator())
			}
			if have, ok := out.MatchLabels[r.Key()]; ok && have != values[0] {
				expr(r, "In", values)
				continue
			}
			if out.MatchLabels == nil {
				out.MatchLabels = map[string]string{}
			}
			out.MatchLabels[r.Key()] = values[0]
		case selection.NotEquals:
			if len(values) != 1 {
				return nil, fmt.Errorf("requirement %q: %s needs exactly one value", r.String(), r.Operator())
			}
			expr(r, "NotIn", values)
		case selection.In:
			expr(r, "In", values)
		case selection.NotIn:
			expr(r, "NotIn", values)
		case selection.Exists:
			expr(r, "Exists", nil)
		case selection.DoesNotExist:
			expr(r, "DoesNotExist", nil)
		default:
			return nil, fmt.Errorf("requirement %q: operator %q has no LabelSelector form", r.String(), r.Operator())
		}
	}
	return out, nil
}
