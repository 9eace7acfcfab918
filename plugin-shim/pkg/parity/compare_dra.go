package parity

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

// compareAllocations compares what Reserve allocated on node for pod: upstream's pending
// allocations and the engine's AssumeResponse.allocations, claim by claim in the pod's order,
// then device result by device result in order. Share IDs are random UUIDs on both sides: only
// their presence is compared. The allocation timestamp is PreBind's, not Reserve's.
func (c *comparer) compareAllocations(pod *v1.Pod, node string, up []claimAllocation, en []*sextantv1.ClaimAllocation) {
	c.r.AllocationPods++
	var engine []claimAllocation
	for _, a := range en {
		ca, err := engineclient.ClaimAllocationFromProto(a)
		if err != nil {
			c.diff(pod, KindAllocation, node, renderAllocations(up), "invalid allocation from Assume: "+err.Error())
			return
		}
		engine = append(engine, claimAllocation{Key: ca.Namespace + "/" + ca.Name, UID: ca.UID, Allocation: ca.Allocation})
	}
	if len(up) != len(engine) || !slices.EqualFunc(up, engine, func(a, b claimAllocation) bool { return a.Key == b.Key }) {
		c.diff(pod, KindAllocation, node, renderAllocations(up), renderAllocations(engine))
		return
	}
	for i := range up {
		c.r.AllocationClaims++
		c.r.AllocationDevices += len(up[i].Allocation.Devices.Results)
		if what := allocationDifference(up[i].Allocation, engine[i].Allocation); what != "" {
			c.diff(pod, KindAllocation, node,
				fmt.Sprintf("claim %s: %s: %s", up[i].Key, what, renderAllocation(up[i].Allocation)),
				fmt.Sprintf("claim %s: %s", engine[i].Key, renderAllocation(engine[i].Allocation)))
		}
	}
}

// allocationDifference names the first difference between two allocations of one claim, or
// returns "" when they are the same.
func allocationDifference(u, e *resourceapi.AllocationResult) string {
	ur, er := u.Devices.Results, e.Devices.Results
	for i := 0; i < len(ur) && i < len(er); i++ {
		if what := deviceResultDifference(&ur[i], &er[i]); what != "" {
			return fmt.Sprintf("device result %d: %s", i, what)
		}
	}
	if len(ur) != len(er) {
		return fmt.Sprintf("%d device results, engine %d", len(ur), len(er))
	}
	if !apiequality.Semantic.DeepEqual(u.NodeSelector, e.NodeSelector) {
		return "node selector"
	}
	return ""
}

func deviceResultDifference(u, e *resourceapi.DeviceRequestAllocationResult) string {
	switch {
	case u.Request != e.Request:
		return "request"
	case u.Driver != e.Driver || u.Pool != e.Pool || u.Device != e.Device:
		return "device"
	case boolPtr(u.AdminAccess) != boolPtr(e.AdminAccess):
		return "adminAccess"
	case renderTolerations(u.Tolerations) != renderTolerations(e.Tolerations):
		return "tolerations"
	case !sameCapacity(u.ConsumedCapacity, e.ConsumedCapacity):
		return "consumed capacity"
	case !slices.Equal(u.BindingConditions, e.BindingConditions) || !slices.Equal(u.BindingFailureConditions, e.BindingFailureConditions):
		return "binding conditions"
	case (u.ShareID == nil) != (e.ShareID == nil):
		return "share ID"
	}
	return ""
}

func sameCapacity(a, b map[resourceapi.QualifiedName]resource.Quantity) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		o, ok := b[k]
		if !ok || q.Cmp(o) != 0 {
			return false
		}
	}
	return true
}

func boolPtr(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

func renderAllocations(as []claimAllocation) string {
	if len(as) == 0 {
		return "no allocations"
	}
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("claim %s: %s", a.Key, renderAllocation(a.Allocation)))
	}
	return strings.Join(parts, "; ")
}

// renderAllocation prints the compared fields of an allocation.
func renderAllocation(a *resourceapi.AllocationResult) string {
	var devices []string
	for _, r := range a.Devices.Results {
		d := fmt.Sprintf("%s=%s/%s/%s", r.Request, r.Driver, r.Pool, r.Device)
		if r.AdminAccess != nil {
			d += " admin=" + boolPtr(r.AdminAccess)
		}
		if len(r.Tolerations) > 0 {
			d += " tolerations=" + renderTolerations(r.Tolerations)
		}
		if len(r.ConsumedCapacity) > 0 {
			var caps []string
			for _, k := range slices.Sorted(maps.Keys(r.ConsumedCapacity)) {
				q := r.ConsumedCapacity[k]
				caps = append(caps, fmt.Sprintf("%s=%s", k, q.String()))
			}
			d += " consumed={" + strings.Join(caps, ",") + "}"
		}
		if len(r.BindingConditions)+len(r.BindingFailureConditions) > 0 {
			d += fmt.Sprintf(" bindingConditions=%v/%v", r.BindingConditions, r.BindingFailureConditions)
		}
		if r.ShareID != nil {
			d += " shared"
		}
		devices = append(devices, "["+d+"]")
	}
	return strings.Join(devices, " ") + " node=" + renderNodeSelector(a.NodeSelector)
}

func renderTolerations(ts []resourceapi.DeviceToleration) string {
	var out []string
	for _, t := range ts {
		s := fmt.Sprintf("%s %s %s:%s", t.Key, t.Operator, t.Value, t.Effect)
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" %ds", *t.TolerationSeconds)
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func renderNodeSelector(s *v1.NodeSelector) string {
	if s == nil {
		return "any"
	}
	var terms []string
	for _, t := range s.NodeSelectorTerms {
		var reqs []string
		for _, r := range t.MatchExpressions {
			reqs = append(reqs, fmt.Sprintf("%s %s %v", r.Key, r.Operator, r.Values))
		}
		for _, r := range t.MatchFields {
			reqs = append(reqs, fmt.Sprintf("field %s %s %v", r.Key, r.Operator, r.Values))
		}
		terms = append(terms, strings.Join(reqs, ", "))
	}
	return "{" + strings.Join(terms, " | ") + "}"
}

func errorOrAllocations(err error, as []claimAllocation) string {
	if err != nil {
		return "Reserve failed: " + err.Error()
	}
	return renderAllocations(as)
}

func errorOrEngineAllocations(err error, as []*sextantv1.ClaimAllocation) string {
	if err != nil {
		return "Assume failed: " + err.Error()
	}
	var out []claimAllocation
	for _, a := range as {
		ca, err := engineclient.ClaimAllocationFromProto(a)
		if err != nil {
			return "invalid allocation from Assume: " + err.Error()
		}
		out = append(out, claimAllocation{Key: ca.Namespace + "/" + ca.Name, Allocation: ca.Allocation})
	}
	return renderAllocations(out)
}

// upstreamErrorPrefix is what upstream's framework puts before a plugin's error: the harness's
// "filter on NODE: ", then "running PreFilter plugin "X": " or "running "X" filter plugin: ".
var upstreamErrorPrefix = regexp.MustCompile(`^(filter on \S+: )?running (PreFilter plugin "[^"]*"|"[^"]*" filter plugin): `)

// cycleErrorMessage is the plugin's own error text in an upstream cycle error, which is what
// the engine reports.
func cycleErrorMessage(upstream string) string {
	return upstreamErrorPrefix.ReplaceAllString(upstream, "")
}
