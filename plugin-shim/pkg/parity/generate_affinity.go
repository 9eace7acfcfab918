package parity

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// The generator's inter-pod part: namespaces with labels, application groups whose pods share
// labels across namespaces (with the Services, ReplicaSets, StatefulSets and
// ReplicationControllers that give them default spread selectors), pod affinity and
// anti-affinity terms, and topology spread constraints.

// Topology keys the terms and constraints use: well-known ones, a custom one some nodes carry, and
// one no node has.
const (
	labelRegion  = "topology.kubernetes.io/region"
	labelRack    = "example.com/rack"
	labelMissing = "example.com/no-node-has-this"
	labelNsName  = "kubernetes.io/metadata.name" // set on every namespace by the API server
)

type appGroup struct {
	app, tier, team string
	namespaces      []string
	workload        string // "rs", "ss", "rc" or "" (bare pods)
}

var appGroups = []appGroup{
	{app: "web", tier: "frontend", team: "a", namespaces: []string{"default", "team-a", "prod"}, workload: "rs"},
	{app: "api", tier: "backend", team: "a", namespaces: []string{"team-a", "prod"}, workload: "rs"},
	{app: "db", tier: "backend", team: "b", namespaces: []string{"team-b", "prod"}, workload: "ss"},
	{app: "cache", tier: "backend", team: "b", namespaces: []string{"team-b", "staging"}, workload: "rc"},
	{app: "batch", team: "c", namespaces: []string{"default", "staging"}},
}

var namespaceLabels = []struct {
	name   string
	labels map[string]string
}{
	{"default", nil},
	{"team-a", map[string]string{"team": "a"}},
	{"team-b", map[string]string{"team": "b", "env": "staging"}},
	{"prod", map[string]string{"env": "prod", "tier": "critical"}},
	{"staging", map[string]string{"env": "staging"}},
}

// ghostNamespace holds pods but has no Namespace object (a snapshot taken without namespaces, or
// a race): upstream gives it empty labels.
const ghostNamespace = "ghost"

var allNamespaceNames = []string{"default", "team-a", "team-b", "prod", "staging"}

// interPod is the per-snapshot state of the inter-pod generator: the workload objects created
// so far, deduplicated by key in creation order.
type interPod struct {
	ghost bool // some pods live in ghostNamespace
	seen  map[string]bool
	solo  int
}

func (g *gen) namespaces(s *Snapshot) {
	for _, n := range namespaceLabels {
		labels := map[string]string{labelNsName: n.name}
		for k, v := range n.labels {
			labels[k] = v
		}
		s.Namespaces = append(s.Namespaces, &v1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: labels, UID: types.UID("uid-ns-" + n.name)},
			Status:     v1.NamespaceStatus{Phase: v1.NamespaceActive},
		})
	}
	g.ip = &interPod{ghost: g.chance(15), seen: map[string]bool{}}
}

// nodeTopology adds region, rack and occasionally drops the zone or hostname label.
func (g *gen) nodeTopology(labels map[string]string) {
	zone := labels["topology.kubernetes.io/zone"]
	if zone == "zone-c" {
		labels[labelRegion] = "region-2"
	} else {
		labels[labelRegion] = "region-1"
	}
	if g.chance(60) {
		labels[labelRack] = fmt.Sprintf("rack-%d", g.r.IntN(4))
	}
	if g.chance(12) {
		delete(labels, "topology.kubernetes.io/zone")
	}
	if g.chance(4) {
		delete(labels, "kubernetes.io/hostname")
	}
}

// groupLabels gives p a namespace and the labels of an application group, and the controller
// owner reference its workload would set, creating the workload objects and Services the first
// time a namespace and group are seen.
func (g *gen) groupLabels(s *Snapshot, p *v1.Pod) {
	grp := appGroups[g.r.IntN(len(appGroups))]
	ns := grp.namespaces[g.r.IntN(len(grp.namespaces))]
	if g.ip.ghost && g.chance(10) {
		ns = ghostNamespace
	}
	p.Namespace = ns
	labels := map[string]string{"app": grp.app}
	if grp.tier != "" {
		labels["tier"] = grp.tier
	}
	if !g.chance(10) {
		labels["team"] = grp.team
	}
	if g.chance(50) {
		labels["version"] = g.pick("v1", "v2")
	}
	p.Labels = labels
	if g.opts.NoInterPod {
		return
	}
	g.service(s, ns, grp)
	switch grp.workload {
	case "rs":
		hash := g.pick("5d8f", "7c9b")
		labels["pod-template-hash"] = hash
		name := grp.app + "-" + hash
		p.OwnerReferences = controllerRef("apps/v1", "ReplicaSet", name)
		if g.first("rs/" + ns + "/" + name) {
			if g.chance(90) { // else the owner is gone: the Services alone make the selector
				sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": grp.app, "pod-template-hash": hash}}
				if g.chance(30) {
					sel.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "version", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"v0"}}}
				}
				s.ReplicaSets = append(s.ReplicaSets, &appsv1.ReplicaSet{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-rs-" + name)},
					Spec:       appsv1.ReplicaSetSpec{Selector: sel},
				})
			}
		}
	case "ss":
		p.OwnerReferences = controllerRef("apps/v1", "StatefulSet", grp.app)
		if g.first("ss/" + ns + "/" + grp.app) {
			sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": grp.app}}
			if g.chance(40) {
				sel = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{grp.app, "db-replica"}},
					{Key: "tier", Operator: metav1.LabelSelectorOpExists},
				}}
			}
			s.StatefulSets = append(s.StatefulSets, &appsv1.StatefulSet{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: grp.app, UID: types.UID("uid-ss-" + ns + "-" + grp.app)},
				Spec:       appsv1.StatefulSetSpec{Selector: sel},
			})
		}
	case "rc":
		p.OwnerReferences = controllerRef("v1", "ReplicationController", grp.app)
		if g.first("rc/" + ns + "/" + grp.app) {
			s.ReplicationControllers = append(s.ReplicationControllers, &v1.ReplicationController{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: grp.app, UID: types.UID("uid-rc-" + ns + "-" + grp.app)},
				Spec:       v1.ReplicationControllerSpec{Selector: map[string]string{"app": grp.app}},
			})
		}
	}
}

func (g *gen) first(key string) bool {
	if g.ip.seen[key] {
		return false
	}
	g.ip.seen[key] = true
	return true
}

func controllerRef(apiVersion, kind, name string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-owner-" + name), Controller: ptr.To(true)}}
}

func (g *gen) service(s *Snapshot, ns string, grp appGroup) {
	if !g.first("svc/" + ns + "/" + grp.app) {
		return
	}
	switch k := g.r.IntN(10); {
	case k < 3: // no Service for this group here
	case k < 7:
		s.Services = append(s.Services, &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: grp.app},
			Spec: v1.ServiceSpec{Selector: map[string]string{"app": grp.app}}})
	case k < 9 && grp.tier != "":
		s.Services = append(s.Services, &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: grp.app + "-" + grp.tier},
			Spec: v1.ServiceSpec{Selector: map[string]string{"app": grp.app, "tier": grp.tier}}})
	default: // headless without a selector: matches no pod
		s.Services = append(s.Services, &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: grp.app + "-external"}})
	}
}

func (g *gen) topologyKey() string {
	switch k := g.r.IntN(20); {
	case k < 7:
		return "kubernetes.io/hostname"
	case k < 12:
		return "topology.kubernetes.io/zone"
	case k < 14:
		return labelRegion
	case k < 17:
		return labelRack
	case k < 18:
		return "node.kubernetes.io/instance-type"
	default:
		return labelMissing
	}
}

// podSelector is a label selector over the groups' labels; own is the pod's labels, which most
// selectors match.
func (g *gen) podSelector(own map[string]string, allowNil bool) *metav1.LabelSelector {
	other := appGroups[g.r.IntN(len(appGroups))].app
	switch k := g.r.IntN(20); {
	case k < 1 && allowNil:
		return nil // matches nothing
	case k < 2:
		return &metav1.LabelSelector{} // matches every pod
	case k < 9:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": own["app"]}}
	case k < 11:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": other}}
	case k < 13:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{own["app"], other}}}}
	case k < 15:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"team": g.pick("a", "b", "c")},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"frontend"}}}}
	case k < 17:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "version", Operator: metav1.LabelSelectorOpExists},
			{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"batch"}}}}
	case k < 19:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": own["app"]},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "version", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	default:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "backend"}}
	}
}

func (g *gen) namespaceSelector() *metav1.LabelSelector {
	switch k := g.r.IntN(20); {
	case k < 11:
		return nil // the namespaces list (or the pod's own namespace)
	case k < 14:
		return &metav1.LabelSelector{} // every namespace
	case k < 16:
		return &metav1.LabelSelector{MatchLabels: map[string]string{"team": g.pick("a", "b")}}
	case k < 18:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: g.pick2(metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn), Values: []string{"prod"}}}}
	case k < 19:
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	default:
		return &metav1.LabelSelector{MatchLabels: map[string]string{labelNsName: g.pick(allNamespaceNames...)}}
	}
}

func (g *gen) pick2(a, b metav1.LabelSelectorOperator) metav1.LabelSelectorOperator {
	if g.chance(50) {
		return a
	}
	return b
}

// affinityTerm builds a term as the API server stores it: matchLabelKeys and mismatchLabelKeys
// kept, and already merged into the label selector (pkg/registry/core/pod/strategy.go,
// applyMatchLabelKeysAndMismatchLabelKeys), which is all the scheduler reads.
func (g *gen) affinityTerm(p *v1.Pod) v1.PodAffinityTerm {
	t := v1.PodAffinityTerm{
		LabelSelector:     g.podSelector(p.Labels, true),
		TopologyKey:       g.topologyKey(),
		NamespaceSelector: g.namespaceSelector(),
	}
	if g.chance(30) {
		t.Namespaces = []string{g.pick(allNamespaceNames...)}
		if g.chance(30) {
			t.Namespaces = append(t.Namespaces, g.pick(ghostNamespace, "nonexistent", p.Namespace))
		}
	}
	if g.chance(20) && t.LabelSelector != nil {
		inSelector := func(k string) bool {
			if _, ok := t.LabelSelector.MatchLabels[k]; ok {
				return true
			}
			for _, r := range t.LabelSelector.MatchExpressions {
				if r.Key == k {
					return true
				}
			}
			return false
		}
		for _, k := range []string{"version", "pod-template-hash", "team", "tier"} {
			if inSelector(k) || !g.chance(40) {
				continue
			}
			if g.chance(60) {
				t.MatchLabelKeys = append(t.MatchLabelKeys, k)
			} else {
				t.MismatchLabelKeys = append(t.MismatchLabelKeys, k)
			}
		}
		for _, k := range t.MatchLabelKeys {
			if v, ok := p.Labels[k]; ok {
				t.LabelSelector.MatchExpressions = append(t.LabelSelector.MatchExpressions,
					metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: []string{v}})
			}
		}
		for _, k := range t.MismatchLabelKeys {
			if v, ok := p.Labels[k]; ok {
				t.LabelSelector.MatchExpressions = append(t.LabelSelector.MatchExpressions,
					metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpNotIn, Values: []string{v}})
			}
		}
	}
	return t
}

// podAffinity gives p pod affinity and anti-affinity terms; pending pods get them more often.
func (g *gen) podAffinity(p *v1.Pod, pending bool) {
	if g.opts.NoInterPod {
		return
	}
	pct := 20
	if pending {
		pct = 40
	}
	if !g.chance(pct) {
		return
	}
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	weighted := func() v1.WeightedPodAffinityTerm {
		return v1.WeightedPodAffinityTerm{Weight: int32(1 + g.r.IntN(100)), PodAffinityTerm: g.affinityTerm(p)}
	}
	if g.chance(50) {
		a := &v1.PodAffinity{}
		if g.chance(40) {
			a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, g.affinityTerm(p))
		}
		for k := g.r.IntN(3); k > 0; k-- {
			a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, weighted())
		}
		p.Spec.Affinity.PodAffinity = a
	}
	if g.chance(60) {
		a := &v1.PodAntiAffinity{}
		if g.chance(50) {
			a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, g.affinityTerm(p))
		}
		for k := g.r.IntN(3); k > 0; k-- {
			a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, weighted())
		}
		p.Spec.Affinity.PodAntiAffinity = a
	}
}

// spreadConstraints gives a pending pod topology spread constraints. matchLabelKeys are merged by
// the scheduler (podtopologyspread/common.go); the API server (MatchLabelKeysInPodTopologySpread-
// SelectorMerge, beta in 1.37) merges them at creation too, so some pods carry them merged.
func (g *gen) spreadConstraints(p *v1.Pod) {
	if g.opts.NoInterPod || !g.chance(35) {
		return
	}
	used := map[string]bool{}
	for k := 1 + g.r.IntN(2); k > 0; k-- {
		c := v1.TopologySpreadConstraint{
			MaxSkew:           int32(1 + g.r.IntN(3)),
			TopologyKey:       g.pick("kubernetes.io/hostname", "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/zone", labelRack, labelRegion, labelMissing),
			WhenUnsatisfiable: v1.ScheduleAnyway,
			LabelSelector:     g.podSelector(p.Labels, true),
		}
		if g.chance(55) {
			c.WhenUnsatisfiable = v1.DoNotSchedule
			if g.chance(30) {
				c.MinDomains = ptr.To(int32(1 + g.r.IntN(5)))
			}
		}
		if used[c.TopologyKey+"/"+string(c.WhenUnsatisfiable)] {
			continue // the API server rejects duplicates
		}
		used[c.TopologyKey+"/"+string(c.WhenUnsatisfiable)] = true
		if k := g.r.IntN(3); k > 0 {
			c.NodeAffinityPolicy = ptr.To([]v1.NodeInclusionPolicy{v1.NodeInclusionPolicyHonor, v1.NodeInclusionPolicyIgnore}[k-1])
		}
		if k := g.r.IntN(3); k > 0 {
			c.NodeTaintsPolicy = ptr.To([]v1.NodeInclusionPolicy{v1.NodeInclusionPolicyHonor, v1.NodeInclusionPolicyIgnore}[k-1])
		}
		if g.chance(25) && c.LabelSelector != nil {
			key := g.pick("version", "pod-template-hash", "team")
			if _, in := c.LabelSelector.MatchLabels[key]; !in && !slices.ContainsFunc(c.LabelSelector.MatchExpressions,
				func(r metav1.LabelSelectorRequirement) bool { return r.Key == key }) {
				c.MatchLabelKeys = []string{key}
				if v, ok := p.Labels[key]; ok && g.chance(30) {
					c.LabelSelector.MatchExpressions = append(c.LabelSelector.MatchExpressions,
						metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{v}})
				}
			}
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, c)
	}
}

// specialGroups appends pending pods that exercise whole-group rules: the first pod of a group
// with required affinity to its own labels (allowed where no pod matches yet), replicas with
// required hostname anti-affinity to each other, and a zone spread with maxSkew 1.
func (g *gen) specialGroups(s *Snapshot, nodes []*v1.Node) {
	if g.opts.NoInterPod {
		return
	}
	add := func(p *v1.Pod) {
		p.Status.Phase = v1.PodPending
		if g.chance(70) {
			g.shrink(p)
		}
		s.Pods = append(s.Pods, p)
	}
	if g.chance(60) { // first pod of a group, then its followers
		g.ip.solo++
		app := fmt.Sprintf("solo-%d", g.ip.solo)
		key := g.pick("kubernetes.io/hostname", "topology.kubernetes.io/zone", labelRack)
		for i := range 1 + g.r.IntN(3) {
			p := g.pod(fmt.Sprintf("%s-%d", app, i), nodes, nil)
			p.Namespace, p.Labels, p.OwnerReferences = "default", map[string]string{"app": app}, nil
			p.Spec.Affinity = &v1.Affinity{PodAffinity: &v1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}, TopologyKey: key,
			}}}}
			p.Spec.TopologySpreadConstraints = nil
			add(p)
		}
	}
	if g.chance(60) { // replicas that must not share a node, then a zone-balanced service
		app := g.pick("web", "api", "db")
		for i := range 3 + g.r.IntN(2) {
			p := g.pod(fmt.Sprintf("replica-%s-%d", app, i), nodes, nil)
			p.Namespace = "prod"
			p.Labels = map[string]string{"app": app, "tier": "critical-" + app}
			p.OwnerReferences = nil
			p.Spec.PriorityClassName, p.Spec.Priority = "high", ptr.To[int32](1000)
			p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "critical-" + app}}, TopologyKey: "kubernetes.io/hostname",
			}}}}
			p.Spec.TopologySpreadConstraints = nil
			add(p)
		}
	}
	if g.chance(60) {
		for i := range 3 + g.r.IntN(4) {
			p := g.pod(fmt.Sprintf("zonal-%d", i), nodes, nil)
			p.Namespace = "team-a"
			p.Labels = map[string]string{"app": "zonal"}
			p.OwnerReferences = nil
			p.Spec.Affinity = nil
			p.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: v1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "zonal"}},
			}}
			add(p)
		}
	}
}

// shrink makes p a small pod: one container asking for little cpu and memory.
func (g *gen) shrink(p *v1.Pod) {
	c := g.container("small")
	c.Resources = v1.ResourceRequirements{Requests: v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse(g.pick("50m", "100m", "200m")),
		v1.ResourceMemory: resource.MustParse(g.pick("64Mi", "128Mi", "256Mi")),
	}}
	p.Spec.Containers = []v1.Container{c}
	p.Spec.InitContainers, p.Spec.Overhead, p.Spec.Resources = nil, nil, nil
}
