package parity

import (
	"fmt"
	"math/rand/v2"
	"time"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// GenerateOptions bound a generated snapshot.
type GenerateOptions struct {
	MinNodes, MaxNodes int
	MinPods, MaxPods   int // pending pods
	// NoPodLevelResources leaves spec.resources unset on every pod (to sweep around the known
	// NodeResourcesFit score difference, see TestUpstreamFitScoreIgnoresPodLevelResources).
	NoPodLevelResources bool
	// NoInterPod leaves out pod affinity and anti-affinity, topology spread constraints, the
	// whole-group pods, and the Services and controllers that give pods default spread
	// constraints (to sweep the other plugins alone).
	NoInterPod bool
	// DRA adds device classes, resource slices and resource claims, running pods holding
	// allocated claims and pending pods with claims (generate_dra.go), drawn from a random source
	// of their own: the rest of the snapshot is the same with or without.
	DRA bool
}

// DefaultGenerateOptions: 5-30 nodes, 10-40 pending pods, DRA objects and claims.
var DefaultGenerateOptions = GenerateOptions{MinNodes: 5, MaxNodes: 30, MinPods: 10, MaxPods: 40, DRA: true}

const extendedGPU = "example.com/gpu"

// Generate builds a small random but realistic snapshot from seed: zones and instance types,
// taints of all three effects, cordoned nodes, extended resources, running pods filling nodes to
// 30-98 %, and pending pods with every kind of toleration, nodeSelector, required and preferred
// node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt, matchFields metadata.name), mixed QoS,
// init and sidecar containers, overhead, pod-level resources, and sizes close to a node's free
// room. For InterPodAffinity and PodTopologySpread (generate_affinity.go): labelled namespaces,
// application groups sharing labels across namespaces with their Services, ReplicaSets,
// StatefulSets and ReplicationControllers (default spreading), region, zone (missing on some
// nodes), rack and hostname labels, running and pending pods with required and preferred pod
// affinity and anti-affinity over every kind of topology key, namespaces list and selector and
// label selector, pending pods with topology spread constraints, and whole groups (first pod of
// a self-affine group, replicas with host anti-affinity, a zone spread with maxSkew 1) that the
// sequential comparison places one by one. The same seed gives the same snapshot.
func Generate(seed uint64, opts GenerateOptions) *Snapshot {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5e7a47)), base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), opts: opts}
	s := &Snapshot{Name: fmt.Sprintf("seed %d", seed)}
	g.s = s
	g.namespaces(s)
	nNodes := opts.MinNodes + g.r.IntN(opts.MaxNodes-opts.MinNodes+1)
	nPods := opts.MinPods + g.r.IntN(opts.MaxPods-opts.MinPods+1)
	free := map[string]v1.ResourceList{}
	for i := range nNodes {
		n := g.node(i)
		s.Nodes = append(s.Nodes, n)
		free[n.Name] = n.Status.Allocatable.DeepCopy()
	}
	s.PriorityClasses = []*schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000},
		{ObjectMeta: metav1.ObjectMeta{Name: "low"}, Value: -10, GlobalDefault: true},
		{ObjectMeta: metav1.ObjectMeta{Name: "critical"}, Value: 100000},
		{ObjectMeta: metav1.ObjectMeta{Name: "medium"}, Value: 100},
		{ObjectMeta: metav1.ObjectMeta{Name: "batch"}, Value: -100},
		{ObjectMeta: metav1.ObjectMeta{Name: "high-nonpreempting"}, Value: 2000, PreemptionPolicy: ptr.To(v1.PreemptNever)},
	}
	// Running pods: fill each node to a random fraction of its cpu and memory.
	for _, n := range s.Nodes {
		target := 0.3 + 0.68*g.r.Float64()
		alloc := n.Status.Allocatable
		for k := 0; k < 12; k++ {
			p := g.pod(fmt.Sprintf("run-%s-%d", n.Name, k), s.Nodes, nil)
			p.Spec.NodeName = n.Name
			p.Status.Phase = v1.PodRunning
			g.runningPriority(p)
			if g.r.IntN(25) == 0 {
				p.Status.Phase = v1.PodSucceeded // terminal: neither side counts it
			}
			if g.chance(10) {
				g.resizeStatus(p)
			}
			if g.chance(3) { // terminating: still counted until it is gone
				p.DeletionTimestamp = ptr.To(metav1.NewTime(g.base.Add(2 * time.Hour)))
				if g.chance(50) { // a victim of an earlier preemption
					p.Status.Conditions = []v1.PodCondition{{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}}
				}
			}
			req := podRequests(p)
			if !fitsFraction(req, free[n.Name], alloc, target) {
				continue
			}
			if p.Status.Phase == v1.PodRunning {
				subtract(free[n.Name], req)
			}
			s.Pods = append(s.Pods, p)
		}
	}
	if g.chance(20) { // bound to a node that is not (or no longer) in the snapshot
		p := g.pod("orphan", s.Nodes, nil)
		p.Spec.NodeName, p.Status.Phase = "node-gone", v1.PodRunning
		s.Pods = append(s.Pods, p)
	}
	for i := range nPods {
		p := g.pod(fmt.Sprintf("pending-%d", i), s.Nodes, free)
		p.Status.Phase = v1.PodPending
		if !g.opts.NoInterPod && g.chance(35) {
			g.shrink(p) // fits on many nodes: their scores, not their room, decide
		}
		g.spreadConstraints(p)
		g.pendingPriority(p, s.Nodes)
		s.Pods = append(s.Pods, p)
	}
	g.specialGroups(s, s.Nodes)
	g.pdbs(s)
	g.terminatingVictims(s)
	if opts.DRA {
		dynamicResources(seed, s, g.base)
	}
	return s
}

// terminatingVictims marks, for some nominated pending pods, a running pod on the nominated node
// as terminating by preemption (the victims of the preemption that nominated it), which makes
// upstream's PodEligibleToPreemptOthers refuse a new preemption when the pod outranks it.
func (g *gen) terminatingVictims(s *Snapshot) {
	for _, p := range s.Pods {
		if p.Spec.NodeName != "" || p.Status.NominatedNodeName == "" || !g.chance(50) {
			continue
		}
		for _, q := range s.Pods {
			if q.Spec.NodeName == p.Status.NominatedNodeName && q.DeletionTimestamp == nil && q.Status.Phase == v1.PodRunning {
				q.DeletionTimestamp = ptr.To(metav1.NewTime(g.base.Add(2 * time.Hour)))
				q.Status.Conditions = []v1.PodCondition{{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}}
				break
			}
		}
	}
}

// runningPriority gives a running pod a priority (most pods; the rest have none, priority 0) and
// a start time: minutes apart, some equal, some missing (a pod bound but not started yet).
func (g *gen) runningPriority(p *v1.Pod) {
	if g.chance(75) {
		g.setPriorityClass(p, g.pick("low", "low", "batch", "medium", "medium", "high", "critical"))
	}
	if !g.chance(12) {
		p.Status.StartTime = ptr.To(metav1.NewTime(g.base.Add(time.Duration(g.r.IntN(3)*30) * time.Minute)))
	}
}

// setPriorityClass sets what admission sets from the class: spec.priority and
// spec.preemptionPolicy.
func (g *gen) setPriorityClass(p *v1.Pod, class string) {
	for _, pc := range g.s.PriorityClasses {
		if pc.Name == class {
			p.Spec.PriorityClassName, p.Spec.Priority = class, ptr.To(pc.Value)
			p.Spec.PreemptionPolicy = ptr.To(ptr.Deref(pc.PreemptionPolicy, v1.PreemptLowerPriority))
		}
	}
}

// pendingPriority makes some pending pods preemptors: a higher priority (some with
// preemptionPolicy Never), often with requests that fill a node; and nominates a few to a node
// (status.nominatedNodeName, as an earlier preemption leaves them).
func (g *gen) pendingPriority(p *v1.Pod, nodes []*v1.Node) {
	if g.chance(35) {
		g.setPriorityClass(p, g.pick("high", "high", "critical", "medium", "high-nonpreempting"))
		if g.chance(8) {
			p.Spec.PreemptionPolicy = ptr.To(v1.PreemptNever)
		}
		if g.chance(50) {
			// Larger than most nodes' free room: only evictions make space.
			p.Spec.Containers[0].Resources.Requests = withResource(p.Spec.Containers[0].Resources.Requests, string(v1.ResourceCPU), g.pick("1", "1500m", "2", "3"))
			p.Spec.Containers[0].Resources.Requests = withResource(p.Spec.Containers[0].Resources.Requests, string(v1.ResourceMemory), g.pick("1Gi", "2Gi", "4Gi"))
			p.Spec.Containers[0].Resources.Limits = nil
			if p.Spec.Resources != nil {
				p.Spec.Resources = nil
			}
		}
	}
	if g.chance(10) {
		p.Status.NominatedNodeName = nodes[g.r.IntN(len(nodes))].Name
		if g.chance(10) {
			p.Status.NominatedNodeName = "node-gone"
		}
	}
}

// pdbs adds PodDisruptionBudgets over the labels of running pods, allowing 0 or 1 disruptions
// (some with an empty selector, which selects nothing for preemption).
func (g *gen) pdbs(s *Snapshot) {
	var running []*v1.Pod
	for _, p := range s.Pods {
		if p.Spec.NodeName != "" && len(p.Labels) > 0 {
			running = append(running, p)
		}
	}
	if len(running) == 0 {
		return
	}
	for i := range g.r.IntN(4) {
		p := running[g.r.IntN(len(running))]
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": p.Labels["app"]}}
		if v, ok := p.Labels["version"]; ok && g.chance(40) {
			sel.MatchLabels["version"] = v
		}
		if g.chance(5) {
			sel = &metav1.LabelSelector{}
		}
		allowed := int32(g.r.IntN(2))
		s.PDBs = append(s.PDBs, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: fmt.Sprintf("pdb-%d", i), UID: types.UID(fmt.Sprintf("uid-pdb-%d", i))},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel, MaxUnavailable: ptr.To(intstr.FromInt32(allowed))},
			Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
		})
	}
}

type gen struct {
	r    *rand.Rand
	base time.Time
	opts GenerateOptions
	s    *Snapshot
	ip   *interPod
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(pct int) bool      { return g.r.IntN(100) < pct }

var (
	zones         = []string{"zone-a", "zone-b", "zone-c"}
	instanceTypes = []string{"small", "medium", "large", "gpu"}
)

func (g *gen) node(i int) *v1.Node {
	name := fmt.Sprintf("node-%02d", i)
	it := g.pick(instanceTypes...)
	labels := map[string]string{
		"kubernetes.io/hostname":           name,
		"kubernetes.io/os":                 "linux",
		"topology.kubernetes.io/zone":      g.pick(zones...),
		"node.kubernetes.io/instance-type": it,
	}
	g.nodeTopology(labels)
	if g.chance(70) {
		labels["tier"] = fmt.Sprint(g.r.IntN(6)) // numeric, for Gt/Lt
	} else if g.chance(30) {
		labels["tier"] = "gold" // not an integer: Gt/Lt never match it
	}
	if g.chance(40) {
		labels["disk"] = g.pick("ssd", "hdd")
	}
	cpu := map[string][]string{"small": {"2", "1900m"}, "medium": {"4", "3920m"}, "large": {"16", "32"}, "gpu": {"8", "7910m"}}[it]
	mem := map[string][]string{"small": {"4Gi", "3800Mi"}, "medium": {"8Gi", "16Gi"}, "large": {"64Gi", "62Gi"}, "gpu": {"32Gi", "61Gi"}}[it]
	alloc := v1.ResourceList{
		v1.ResourceCPU:              resource.MustParse(g.pick(cpu...)),
		v1.ResourceMemory:           resource.MustParse(g.pick(mem...)),
		v1.ResourcePods:             resource.MustParse(g.pick("110", "110", "16", "4")),
		v1.ResourceEphemeralStorage: resource.MustParse(g.pick("100Gi", "20Gi")),
	}
	if it == "gpu" || g.chance(5) {
		alloc[extendedGPU] = resource.MustParse(g.pick("1", "2", "4", "8"))
	}
	if g.chance(10) {
		alloc["hugepages-2Mi"] = resource.MustParse(g.pick("1Gi", "512Mi"))
	}
	capacity := alloc.DeepCopy()
	n := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(g.base.Add(time.Duration(i) * time.Minute))},
		Status: v1.NodeStatus{Capacity: capacity, Allocatable: alloc},
	}
	if it == "gpu" && g.chance(70) {
		n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: "nvidia.com/gpu", Value: "present", Effect: v1.TaintEffectNoSchedule})
	}
	if g.chance(30) {
		pool := []v1.Taint{
			{Key: "dedicated", Value: "infra", Effect: v1.TaintEffectNoSchedule},
			{Key: "dedicated", Value: "batch", Effect: v1.TaintEffectNoExecute},
			{Key: "spot", Effect: v1.TaintEffectPreferNoSchedule},
			{Key: "team", Value: "a", Effect: v1.TaintEffectPreferNoSchedule},
			{Key: "team", Value: "b", Effect: v1.TaintEffectPreferNoSchedule},
			{Key: "maintenance", Value: "soon", Effect: v1.TaintEffectNoExecute},
		}
		for k := 0; k < 1+g.r.IntN(2); k++ {
			t := pool[g.r.IntN(len(pool))]
			dup := false
			for _, have := range n.Spec.Taints {
				dup = dup || (have.Key == t.Key && have.Effect == t.Effect)
			}
			if !dup {
				n.Spec.Taints = append(n.Spec.Taints, t)
			}
		}
	}
	if g.chance(10) {
		n.Spec.Unschedulable = true
		if g.chance(70) { // as kubectl cordon leaves it once the node controller has run
			n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule})
		}
	}
	return n
}

func (g *gen) quantity(kind string) string {
	switch kind {
	case "cpu":
		return g.pick("10m", "100m", "250m", "500m", "1", "1500m", "2", "3")
	case "memory":
		return g.pick("64Mi", "128Mi", "256Mi", "500M", "1Gi", "2Gi", "3Gi")
	}
	return "1"
}

func (g *gen) container(name string) v1.Container {
	c := v1.Container{Name: name, Image: "registry.k8s.io/pause:3.10"}
	switch q := g.r.IntN(10); {
	case q == 0: // best effort
	case q <= 2: // guaranteed
		rl := v1.ResourceList{v1.ResourceCPU: resource.MustParse(g.quantity("cpu")), v1.ResourceMemory: resource.MustParse(g.quantity("memory"))}
		c.Resources.Requests, c.Resources.Limits = rl, rl.DeepCopy()
	case q == 3: // limits only: requests default to them
		c.Resources.Limits = v1.ResourceList{v1.ResourceCPU: resource.MustParse(g.quantity("cpu"))}
		c.Resources.Requests = c.Resources.Limits.DeepCopy()
	case q == 4: // one resource only
		kind := g.pick("cpu", "memory")
		c.Resources.Requests = v1.ResourceList{v1.ResourceName(kind): resource.MustParse(g.quantity(kind))}
	default: // burstable
		c.Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(g.quantity("cpu")), v1.ResourceMemory: resource.MustParse(g.quantity("memory"))}
		if g.chance(50) {
			c.Resources.Limits = v1.ResourceList{v1.ResourceMemory: resource.MustParse("4Gi")}
		}
	}
	if g.chance(8) {
		if c.Resources.Requests == nil {
			c.Resources.Requests = v1.ResourceList{}
		}
		c.Resources.Requests[v1.ResourceEphemeralStorage] = resource.MustParse(g.pick("1Gi", "10Gi"))
	}
	return c
}

// pod builds a pod; free (pending pods only) lets some pods be sized to nearly fill a node.
func (g *gen) pod(name string, nodes []*v1.Node, free map[string]v1.ResourceList) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(g.base.Add(time.Hour))},
		Spec:       v1.PodSpec{SchedulerName: "sextant"},
	}
	g.groupLabels(g.s, p)
	for k := 0; k < 1+g.r.IntN(3); k++ {
		p.Spec.Containers = append(p.Spec.Containers, g.container(fmt.Sprintf("c%d", k)))
	}
	if g.chance(20) {
		ic := g.container("init")
		if g.chance(50) {
			ic.Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse(g.pick("2", "4")), v1.ResourceMemory: resource.MustParse("1Gi")}
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, ic)
	}
	if g.chance(15) {
		sc := g.container("sidecar")
		sc.RestartPolicy = ptr.To(v1.ContainerRestartPolicyAlways)
		p.Spec.InitContainers = append(p.Spec.InitContainers, sc)
		if g.chance(50) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, g.container("init-after"))
		}
	}
	if g.chance(10) {
		p.Spec.Overhead = v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m"), v1.ResourceMemory: resource.MustParse("120Mi")}
	}
	if g.chance(8) {
		p.Spec.Containers[0].Resources.Requests = withResource(p.Spec.Containers[0].Resources.Requests, extendedGPU, g.pick("1", "2", "3"))
		p.Spec.Containers[0].Resources.Limits = withResource(p.Spec.Containers[0].Resources.Limits, extendedGPU, p.Spec.Containers[0].Resources.Requests.Name(extendedGPU, resource.DecimalSI).String())
	}
	if g.chance(4) {
		p.Spec.Containers[0].Resources.Requests = withResource(p.Spec.Containers[0].Resources.Requests, "hugepages-2Mi", "256Mi")
		p.Spec.Containers[0].Resources.Limits = withResource(p.Spec.Containers[0].Resources.Limits, "hugepages-2Mi", "256Mi")
	}
	if g.chance(5) && !g.opts.NoPodLevelResources {
		// Pod-level resources (PodLevelResources, beta), valid as the API server requires: requests
		// at least the containers' sums, limits at least the requests, no container limit above
		// the pod's (container limits dropped here).
		req := v1.ResourceList{}
		for _, kind := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
			sum := resource.MustParse(map[v1.ResourceName]string{v1.ResourceCPU: g.pick("0", "250m"), v1.ResourceMemory: g.pick("0", "256Mi")}[kind])
			for i := range p.Spec.Containers {
				c := &p.Spec.Containers[i]
				delete(c.Resources.Limits, kind)
				if len(c.Resources.Limits) == 0 {
					c.Resources.Limits = nil
				}
				if q, ok := c.Resources.Requests[kind]; ok {
					sum.Add(q)
				}
			}
			if !sum.IsZero() {
				req[kind] = sum
			}
		}
		if len(req) > 0 {
			lim := req.DeepCopy()
			for k, q := range lim {
				q.Add(q)
				lim[k] = q
			}
			p.Spec.Resources = &v1.ResourceRequirements{Requests: req, Limits: lim}
		}
	}
	if g.chance(20) {
		g.setPriorityClass(p, g.pick("high", "low"))
	}
	if free != nil && g.chance(15) {
		// Nearly fill a node: ask for (almost) exactly its free cpu, just under or just over.
		n := nodes[g.r.IntN(len(nodes))]
		f := free[n.Name][v1.ResourceCPU]
		var m int64
		if d := g.r.IntN(3); d == 0 {
			m = f.MilliValue() - 1
		} else if d == 1 {
			m = f.MilliValue()
		} else {
			m = f.MilliValue() + 1
		}
		if m > 0 {
			p.Spec.Containers = p.Spec.Containers[:1]
			p.Spec.InitContainers, p.Spec.Overhead, p.Spec.Resources = nil, nil, nil
			p.Spec.Containers[0].Resources = v1.ResourceRequirements{Requests: v1.ResourceList{
				v1.ResourceCPU:    *resource.NewMilliQuantity(m, resource.DecimalSI),
				v1.ResourceMemory: resource.MustParse("100Mi"),
			}}
		}
	}
	g.tolerations(p)
	g.placement(p, nodes)
	g.podAffinity(p, free != nil)
	return p
}

func withResource(rl v1.ResourceList, name, q string) v1.ResourceList {
	if rl == nil {
		rl = v1.ResourceList{}
	}
	rl[v1.ResourceName(name)] = resource.MustParse(q)
	return rl
}

func (g *gen) tolerations(p *v1.Pod) {
	if !g.chance(45) {
		return
	}
	pool := []v1.Toleration{
		{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "infra", Effect: v1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "batch"}, // operator empty = Equal, effect empty = all
		{Key: "dedicated", Operator: v1.TolerationOpExists},
		{Key: "spot", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectPreferNoSchedule},
		{Key: "team", Operator: v1.TolerationOpEqual, Value: "a", Effect: v1.TaintEffectPreferNoSchedule},
		{Key: "team", Operator: v1.TolerationOpEqual, Value: "b"},
		{Key: "maintenance", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
		{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
		{Operator: v1.TolerationOpExists}, // empty key + Exists: tolerates everything
		{Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule},
		{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "other", Effect: v1.TaintEffectNoSchedule},
	}
	for k := 0; k < 1+g.r.IntN(3); k++ {
		p.Spec.Tolerations = append(p.Spec.Tolerations, pool[g.r.IntN(len(pool))])
	}
}

func (g *gen) requirement(nodes []*v1.Node) v1.NodeSelectorRequirement {
	switch g.r.IntN(8) {
	case 0:
		return v1.NodeSelectorRequirement{Key: "topology.kubernetes.io/zone", Operator: v1.NodeSelectorOpIn, Values: []string{g.pick(zones...), g.pick(zones...)}}
	case 1:
		return v1.NodeSelectorRequirement{Key: "node.kubernetes.io/instance-type", Operator: v1.NodeSelectorOpNotIn, Values: []string{g.pick(instanceTypes...)}}
	case 2:
		return v1.NodeSelectorRequirement{Key: "disk", Operator: v1.NodeSelectorOpExists}
	case 3:
		return v1.NodeSelectorRequirement{Key: "disk", Operator: v1.NodeSelectorOpDoesNotExist}
	case 4:
		return v1.NodeSelectorRequirement{Key: "tier", Operator: v1.NodeSelectorOpGt, Values: []string{fmt.Sprint(g.r.IntN(5))}}
	case 5:
		return v1.NodeSelectorRequirement{Key: "tier", Operator: v1.NodeSelectorOpLt, Values: []string{fmt.Sprint(1 + g.r.IntN(5))}}
	case 6:
		return v1.NodeSelectorRequirement{Key: "disk", Operator: v1.NodeSelectorOpIn, Values: []string{"ssd"}}
	default:
		return v1.NodeSelectorRequirement{Key: "kubernetes.io/hostname", Operator: v1.NodeSelectorOpNotIn, Values: []string{nodes[g.r.IntN(len(nodes))].Name}}
	}
}

func (g *gen) term(nodes []*v1.Node) v1.NodeSelectorTerm {
	var t v1.NodeSelectorTerm
	for k := 0; k < 1+g.r.IntN(2); k++ {
		t.MatchExpressions = append(t.MatchExpressions, g.requirement(nodes))
	}
	if g.chance(15) {
		// The API server requires exactly one value for metadata.name.
		names := []string{nodes[g.r.IntN(len(nodes))].Name}
		if g.chance(15) {
			names[0] = "node-gone" // no such node: PreFilter narrows to nothing that exists
		}
		op := v1.NodeSelectorOpIn
		if g.chance(30) {
			op = v1.NodeSelectorOpNotIn
		}
		t.MatchFields = append(t.MatchFields, v1.NodeSelectorRequirement{Key: "metadata.name", Operator: op, Values: names})
		if op == v1.NodeSelectorOpIn && g.chance(15) {
			// Two names in one term: a conflict, which PreFilter rejects when every term has one.
			t.MatchFields = append(t.MatchFields, v1.NodeSelectorRequirement{Key: "metadata.name", Operator: v1.NodeSelectorOpIn,
				Values: []string{nodes[g.r.IntN(len(nodes))].Name}})
		}
		if g.chance(40) {
			t.MatchExpressions = nil // matchFields alone: PreFilter narrows the nodes
		}
	}
	return t
}

func (g *gen) placement(p *v1.Pod, nodes []*v1.Node) {
	if g.chance(20) {
		p.Spec.NodeSelector = map[string]string{}
		switch g.r.IntN(3) {
		case 0:
			p.Spec.NodeSelector["topology.kubernetes.io/zone"] = g.pick(zones...)
		case 1:
			p.Spec.NodeSelector["disk"] = "ssd"
		default:
			p.Spec.NodeSelector["kubernetes.io/os"] = "linux"
		}
	}
	if !g.chance(45) {
		return
	}
	na := &v1.NodeAffinity{}
	if g.chance(60) {
		req := &v1.NodeSelector{}
		for k := 0; k < 1+g.r.IntN(2); k++ {
			req.NodeSelectorTerms = append(req.NodeSelectorTerms, g.term(nodes))
		}
		na.RequiredDuringSchedulingIgnoredDuringExecution = req
	}
	if g.chance(60) {
		for k := 0; k < 1+g.r.IntN(3); k++ {
			na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
				v1.PreferredSchedulingTerm{Weight: int32(1 + g.r.IntN(100)), Preference: g.term(nodes)})
		}
	}
	p.Spec.Affinity = &v1.Affinity{NodeAffinity: na}
}

// podRequests approximates a pod's requests for filling nodes (sum of containers, overhead);
// the comparison itself uses each side's exact accounting.
func podRequests(p *v1.Pod) v1.ResourceList {
	out := v1.ResourceList{v1.ResourcePods: resource.MustParse("1")}
	for _, c := range p.Spec.Containers {
		for k, q := range c.Resources.Requests {
			sum := out[k]
			sum.Add(q)
			out[k] = sum
		}
	}
	for k, q := range p.Spec.Overhead {
		sum := out[k]
		sum.Add(q)
		out[k] = sum
	}
	return out
}

// fitsFraction reports whether req fits in free while keeping cpu and memory use under target
// of alloc.
func fitsFraction(req, free, alloc v1.ResourceList, target float64) bool {
	for k, q := range req {
		f, ok := free[k]
		if !ok || f.Cmp(q) < 0 {
			return false
		}
		if k == v1.ResourceCPU || k == v1.ResourceMemory {
			a := alloc[k]
			used := a.DeepCopy()
			used.Sub(f)
			used.Add(q)
			if float64(used.MilliValue()) > target*float64(a.MilliValue()) {
				return false
			}
		}
	}
	return true
}

func subtract(free, req v1.ResourceList) {
	for k, q := range req {
		f := free[k]
		f.Sub(q)
		free[k] = f
	}
}

// resizeStatus reports container statuses of an in-place resize (InPlacePodVerticalScaling):
// allocated and actuated requests that differ from the spec, up or down, for some containers.
// No PodResizePending condition is set (docs/parity.md, deliberate difference 7).
func (g *gen) resizeStatus(p *v1.Pod) {
	for _, c := range p.Spec.Containers {
		st := v1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: true}
		if c.Resources.Requests != nil && g.chance(70) {
			alloc := c.Resources.Requests.DeepCopy()
			alloc[v1.ResourceCPU] = resource.MustParse(g.quantity("cpu"))
			if g.chance(50) {
				alloc[v1.ResourceMemory] = resource.MustParse(g.quantity("memory"))
			}
			st.AllocatedResources = alloc
			actual := c.Resources.Requests.DeepCopy() // the kubelet has not actuated it yet
			if g.chance(50) {
				actual = alloc.DeepCopy() // actuated
			}
			st.Resources = &v1.ResourceRequirements{Requests: actual}
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
}
