// Package parity checks the claim "same feasibility, same scores as upstream": it runs upstream
// kube-scheduler's framework (k8s.io/kubernetes v1.37.2, the plugins the engine implements, with
// their default weights and args) and the Sextant engine on the same snapshot, and compares, for
// every pending pod and every node, the filter verdict (code, failing plugin, reasons) and, for
// feasible nodes, the total weighted score. Ties and sampling differ by design (docs/parity.md),
// so the chosen node is never compared: the set of top-scoring nodes is.
package parity

import (
	"context"
	"fmt"
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultpreemption"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"
	"k8s.io/utils/ptr"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

var registerMetrics sync.Once

// ProfilePlugins are the plugins the engine implements, in upstream's default order, with
// upstream's default score weights (0: no Score extension).
var ProfilePlugins = []config.Plugin{
	{Name: names.PrioritySort},
	{Name: names.NodeName},
	{Name: names.NodeUnschedulable},
	{Name: names.TaintToleration, Weight: 3},
	{Name: names.NodeAffinity, Weight: 2},
	{Name: names.NodeResourcesFit, Weight: 1},
	{Name: names.PodTopologySpread, Weight: 2},
	{Name: names.InterPodAffinity, Weight: 2},
	{Name: names.NodeResourcesBalancedAllocation, Weight: 1},
	{Name: names.DynamicResources, Weight: 2},
	{Name: names.DefaultPreemption},
	{Name: names.DefaultBinder},
}

// preemptionArgs are DefaultPreemption's args in the parity profile: every Unschedulable node is
// dry-run (docs/parity.md, deliberate difference 13), as the engine does.
func preemptionArgs() *config.DefaultPreemptionArgs {
	return &config.DefaultPreemptionArgs{MinCandidateNodesPercentage: 100, MinCandidateNodesAbsolute: 1 << 30}
}

// upstreamProfile is upstream's default profile (defaulted plugin args) restricted to
// ProfilePlugins, scoring every feasible node.
func upstreamProfile() (*config.KubeSchedulerProfile, error) {
	cfg, err := latest.Default()
	if err != nil {
		return nil, err
	}
	if len(cfg.Profiles) != 1 {
		return nil, fmt.Errorf("default configuration has %d profiles", len(cfg.Profiles))
	}
	profile := cfg.Profiles[0]
	profile.PercentageOfNodesToScore = ptr.To[int32](100)
	profile.Plugins = &config.Plugins{MultiPoint: config.PluginSet{Enabled: ProfilePlugins}}
	found := false
	for i := range profile.PluginConfig {
		if profile.PluginConfig[i].Name == names.DefaultPreemption {
			profile.PluginConfig[i].Args, found = preemptionArgs(), true
		}
	}
	if !found {
		profile.PluginConfig = append(profile.PluginConfig, config.PluginConfig{Name: names.DefaultPreemption, Args: preemptionArgs()})
	}
	return &profile, nil
}

// NodeVerdict is one side's answer for one node.
type NodeVerdict struct {
	Code    string // Success, Unschedulable, UnschedulableAndUnresolvable, Error
	Plugin  string // failing filter; empty when feasible
	Reasons []string
	Score   int64            // total weighted score; feasible nodes only
	Scores  map[string]int64 // per plugin, as the side reports them (diagnostics only)
	Scored  bool
}

// PodVerdict is one side's answer for one pod.
type PodVerdict struct {
	PreFilterPlugin  string // a PreFilter rejected the pod
	PreFilterMessage string
	Error            string // the cycle failed with an error (not a rejection)
	Nodes            map[string]*NodeVerdict
}

// upstream runs upstream's framework on one snapshot.
type upstream struct {
	fw        framework.Framework
	preempt   *defaultpreemption.DefaultPreemption // built on fw with the profile's args
	nominator *podNominator
	snap      *cache.Snapshot
	nodes     []string
	nodeObjs  []*v1.Node
	bound     []*v1.Pod       // the pods in snap
	assumed   map[string]bool // keys of the pods bind assumed
	spread    engineclient.SpreadListers
	dra       *upstreamDRA
	close     func() // stops the informers
}

// newUpstream builds upstream's framework on s: a cache snapshot of the nodes and the pods bound
// to them, and an informer factory on a fake clientset holding the snapshot's namespaces (for
// InterPodAffinity's namespaceSelectors), services and controllers (for PodTopologySpread's
// system default constraints) and DRA objects (device classes, resource slices and resource
// claims, which reach DynamicResources through the DRA manager, dra.go), started and synced
// before it returns. Claims need numeric resource versions (the assume cache compares them).
// close must be called.
func newUpstream(ctx context.Context, s *Snapshot) (*upstream, error) {
	registerMetrics.Do(metrics.Register)
	profile, err := upstreamProfile()
	if err != nil {
		return nil, err
	}
	u := &upstream{nodeObjs: s.Nodes, nominator: newPodNominator()}
	known := map[string]bool{}
	for _, n := range s.Nodes {
		u.nodes = append(u.nodes, n.Name)
		known[n.Name] = true
	}
	for _, p := range s.Pods {
		// The scheduler cache lists only nodes it has: pods bound to a node that is gone count
		// for no plugin. (cache.NewSnapshot would list a NodeInfo without a node for them.)
		if p.Spec.NodeName != "" && !isTerminal(p) && known[p.Spec.NodeName] {
			u.bound = append(u.bound, p)
		}
		// The scheduling queue nominates every pending pod that carries status.nominatedNodeName
		// when it is added (nominator.addNominatedPod with ModeNoop).
		if p.Spec.NodeName == "" && !isTerminal(p) && p.Status.NominatedNodeName != "" {
			if err := u.nominator.add(p); err != nil {
				return nil, err
			}
		}
	}
	u.snap = cache.NewSnapshot(u.bound, s.Nodes)
	var objects []runtime.Object
	for _, o := range s.Namespaces {
		objects = append(objects, o)
	}
	for _, o := range s.Services {
		objects = append(objects, o)
	}
	for _, o := range s.ReplicationControllers {
		objects = append(objects, o)
	}
	for _, o := range s.ReplicaSets {
		objects = append(objects, o)
	}
	for _, o := range s.StatefulSets {
		objects = append(objects, o)
	}
	for _, o := range s.PDBs {
		objects = append(objects, o) // DefaultPreemption lists them from its informer
	}
	for _, o := range s.DeviceClasses {
		objects = append(objects, o)
	}
	for _, o := range s.ResourceSlices {
		objects = append(objects, o)
	}
	for _, o := range s.ResourceClaims {
		objects = append(objects, o)
	}
	cs := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	if u.dra, err = newUpstreamDRA(ctx, cs, factory); err != nil {
		return nil, err
	}
	fw, err := frameworkruntime.NewFramework(ctx, plugins.NewInTreeRegistry(), profile,
		frameworkruntime.WithClientSet(cs),
		frameworkruntime.WithInformerFactory(factory),
		frameworkruntime.WithSharedDRAManager(u.dra.manager),
		frameworkruntime.WithSnapshotSharedLister(u.snap),
		frameworkruntime.WithMutableSnapshotLister(u.snap),
		frameworkruntime.WithPodNominator(u.nominator))
	if err != nil {
		u.dra.stop()
		return nil, fmt.Errorf("building upstream's framework: %w", err)
	}
	u.fw = fw
	// The framework holds its own DefaultPreemption as PostFilter, which would also actuate
	// (delete victims through the clientset); the harness builds one more on the same handle,
	// with the same args, and calls its evaluation steps (preemption.go). Built before the
	// informer factory starts: it registers the Pod and PodDisruptionBudget informers.
	u.preempt, err = defaultpreemption.New(ctx, preemptionArgs(), fw, plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate))
	if err != nil {
		u.dra.stop()
		return nil, fmt.Errorf("building upstream's DefaultPreemption: %w", err)
	}
	u.preempt.MoreImportantVictim = moreImportantVictim
	// The same listers the plugins hold (the factory shares one informer per type).
	u.spread = engineclient.SpreadListers{
		Services:               factory.Core().V1().Services().Lister(),
		ReplicationControllers: factory.Core().V1().ReplicationControllers().Lister(),
		ReplicaSets:            factory.Apps().V1().ReplicaSets().Lister(),
		StatefulSets:           factory.Apps().V1().StatefulSets().Lister(),
	}
	factory.Core().V1().Namespaces().Informer()
	stop := make(chan struct{})
	factory.Start(stop)
	u.close = func() {
		close(stop)
		factory.Shutdown()
		u.dra.stop()
	}
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			u.close()
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	if err := u.dra.waitSynced(ctx, s); err != nil {
		u.close()
		return nil, fmt.Errorf("DRA objects did not reach the assume cache and the slice tracker: %w", err)
	}
	return u, nil
}

// defaultSpreadSelector is what the shim sends with Evaluate for pod, from the same listers
// upstream's PodTopologySpread reads.
func (u *upstream) defaultSpreadSelector(pod *v1.Pod) (*sextantv1.LabelSelector, error) {
	return engineclient.DefaultSpreadSelector(pod, u.spread)
}

// bind places pod on node: the snapshot the plugins hold is rebuilt in place with it. assumed
// records how the engine was told (for remove).
func (u *upstream) bind(pod *v1.Pod, node string, assumed bool) {
	bound := pod.DeepCopy()
	bound.Spec.NodeName = node
	u.bound = append(u.bound, bound)
	u.nominator.DeleteNominatedPodIfExists(pod) // as the queue does once the pod is assumed
	if assumed {
		if u.assumed == nil {
			u.assumed = map[string]bool{}
		}
		u.assumed[podKey(pod)] = true
	}
	*u.snap = *cache.NewSnapshot(u.bound, u.nodeObjs)
}

// remove takes a bound pod out of the snapshot.
func (u *upstream) remove(pod *v1.Pod) {
	key := podKey(pod)
	u.bound = slices.DeleteFunc(u.bound, func(p *v1.Pod) bool { return podKey(p) == key })
	delete(u.assumed, key)
	*u.snap = *cache.NewSnapshot(u.bound, u.nodeObjs)
}

func codeName(st *fwk.Status) string {
	if st.IsSuccess() {
		return "Success"
	}
	switch st.Code() {
	case fwk.Unschedulable:
		return "Unschedulable"
	case fwk.UnschedulableAndUnresolvable:
		return "UnschedulableAndUnresolvable"
	}
	return st.Code().String()
}

// evaluate runs PreFilter, Filter on every node (or on the PreFilterResult's nodes, the others
// getting upstream's absent-node status), PreScore and Score on the feasible nodes (even when
// only one is feasible: the engine reports its scores too).
func (u *upstream) evaluate(ctx context.Context, pod *v1.Pod) *PodVerdict {
	v, _ := u.runCycle(ctx, pod)
	return v
}

// cycleResult is what PostFilter gets from a cycle: the CycleState after PreFilter and the
// filters, and every node's filter status (nil: feasible). prefiltered is false when PreFilter
// rejected the pod or the cycle failed.
type cycleResult struct {
	state       fwk.CycleState
	statuses    map[string]*fwk.Status
	prefiltered bool
}

// runCycle is evaluate, also returning the cycle's state for preemption. Filters run as upstream's
// findNodesThatPassFilters runs them: with the nominated pods (RunFilterPluginsWithNominatedPods).
func (u *upstream) runCycle(ctx context.Context, pod *v1.Pod) (*PodVerdict, *cycleResult) {
	out := &PodVerdict{Nodes: map[string]*NodeVerdict{}}
	state := framework.NewCycleState()
	cyc := &cycleResult{state: state, statuses: map[string]*fwk.Status{}}
	preRes, st, unscheduled := u.fw.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			out.Error = st.AsError().Error()
			return out, cyc
		}
		out.PreFilterPlugin, out.PreFilterMessage = st.Plugin(), st.Message()
		return out, cyc
	}
	cyc.prefiltered = true
	var feasible []fwk.NodeInfo
	for _, name := range u.nodes {
		ni, err := u.snap.NodeInfos().Get(name)
		if err != nil {
			out.Error = err.Error()
			cyc.prefiltered = false
			return out, cyc
		}
		if !preRes.AllNodes() && !preRes.NodeNames.Has(name) {
			absent := fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(unscheduled)))
			out.Nodes[name] = &NodeVerdict{Code: codeName(absent), Plugin: absent.Plugin(), Reasons: absent.Reasons()}
			cyc.statuses[name] = absent
			continue
		}
		st := u.fw.RunFilterPluginsWithNominatedPods(ctx, state, pod, ni)
		cyc.statuses[name] = st
		if st.IsSuccess() {
			feasible = append(feasible, ni)
			out.Nodes[name] = &NodeVerdict{Code: codeName(st)}
			continue
		}
		if !st.IsRejected() {
			out.Error = fmt.Sprintf("filter on %s: %v", name, st.AsError())
			cyc.prefiltered = false
			return out, cyc
		}
		out.Nodes[name] = &NodeVerdict{Code: codeName(st), Plugin: st.Plugin(), Reasons: st.Reasons()}
	}
	if len(feasible) == 0 {
		return out, cyc
	}
	if st := u.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		out.Error = "PreScore: " + st.AsError().Error()
		return out, cyc
	}
	scores, st := u.fw.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		out.Error = "Score: " + st.AsError().Error()
		return out, cyc
	}
	for _, s := range scores {
		nv := out.Nodes[s.Name]
		nv.Score, nv.Scored = s.TotalScore, true
		nv.Scores = map[string]int64{}
		for _, ps := range s.Scores {
			nv.Scores[ps.Name] = ps.Score
		}
	}
	return out, cyc
}

func isTerminal(p *v1.Pod) bool {
	return p.Status.Phase == v1.PodSucceeded || p.Status.Phase == v1.PodFailed
}
