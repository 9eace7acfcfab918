package parity

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// SpeedOptions shape a speed snapshot.
type SpeedOptions struct {
	Nodes       int
	PendingPods int    // default 50
	PodsPerNode int    // running pods per node, default 5
	Seed        uint64 // default 1
}

// SpeedRow is one line of the speed table: per-pod medians over the pending pods after one
// warm-up pass, both sides on the same snapshot in the same process.
type SpeedRow struct {
	Nodes, RunningPods, PendingPods int
	// UpstreamMedian: upstream's RunPreFilterPlugins + RunFilterPlugins on every node (or the
	// PreFilterResult's nodes) + RunPreScorePlugins + RunScorePlugins on the feasible ones.
	UpstreamMedian time.Duration
	// EngineMedian: one Evaluate call through gRPC as the client sees it (pod conversion to
	// proto, marshalling, unix socket round trip, the engine's cycle, unmarshalling the answer).
	EngineMedian time.Duration
	// Feasible nodes, median over the pods (upstream's count), to show the pods do real work.
	MedianFeasible int
}

// Ratio is upstream's median over the engine's.
func (r SpeedRow) Ratio() float64 {
	if r.EngineMedian <= 0 {
		return 0
	}
	return float64(r.UpstreamMedian) / float64(r.EngineMedian)
}

// GenerateSpeed builds a large snapshot for speed runs: nodes with realistic allocatable and
// labels across three zones and four instance types, a fifth of them GPU nodes tainted
// nvidia.com/gpu:NoSchedule, PodsPerNode running Burstable pods per node, and PendingPods pending
// pods cycling through four kinds: plain Burstable, with a nodeSelector (zone), with
// tolerations (GPU taint, requesting example.com/gpu), with preferred node affinity (zone and
// instance type). The same options give the same snapshot.
func GenerateSpeed(o SpeedOptions) *Snapshot {
	if o.PendingPods <= 0 {
		o.PendingPods = 50
	}
	if o.PodsPerNode <= 0 {
		o.PodsPerNode = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x5beed))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &Snapshot{Name: fmt.Sprintf("speed %d nodes", o.Nodes)}
	s.PriorityClasses = []*schedulingv1.PriorityClass{{ObjectMeta: metav1.ObjectMeta{Name: "default-low"}, Value: 0, GlobalDefault: true}}
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	q := resource.MustParse
	for i := 0; i < o.Nodes; i++ {
		name := fmt.Sprintf("node-%05d", i)
		gpu := i%5 == 4
		it := pick("small", "medium", "large")
		if gpu {
			it = "gpu"
		}
		cpu := map[string]string{"small": "3920m", "medium": "7910m", "large": "31850m", "gpu": "15890m"}[it]
		mem := map[string]string{"small": "14Gi", "medium": "29Gi", "large": "120Gi", "gpu": "58Gi"}[it]
		alloc := v1.ResourceList{v1.ResourceCPU: q(cpu), v1.ResourceMemory: q(mem), v1.ResourcePods: q("110"), v1.ResourceEphemeralStorage: q("95Gi")}
		if gpu {
			alloc[extendedGPU] = q("4")
		}
		n := &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(base),
				Labels: map[string]string{
					"kubernetes.io/hostname":           name,
					"kubernetes.io/os":                 "linux",
					"kubernetes.io/arch":               "amd64",
					"topology.kubernetes.io/zone":      zones[i%len(zones)],
					"topology.kubernetes.io/region":    "region-1",
					"node.kubernetes.io/instance-type": it,
					"disk":                             pick("ssd", "hdd"),
				}},
			Status: v1.NodeStatus{Capacity: alloc.DeepCopy(), Allocatable: alloc},
		}
		if gpu {
			n.Spec.Taints = []v1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: v1.TaintEffectNoSchedule}}
		}
		s.Nodes = append(s.Nodes, n)
		for k := 0; k < o.PodsPerNode; k++ {
			p := speedPod(fmt.Sprintf("run-%s-%d", name, k), pick("50m", "100m", "250m", "500m"), pick("64Mi", "128Mi", "256Mi", "512Mi"), base)
			p.Spec.NodeName = name
			p.Status.Phase = v1.PodRunning
			s.Pods = append(s.Pods, p)
		}
	}
	for i := 0; i < o.PendingPods; i++ {
		p := speedPod(fmt.Sprintf("pending-%d", i), pick("100m", "250m", "500m", "1"), pick("128Mi", "256Mi", "1Gi"), base)
		p.Status.Phase = v1.PodPending
		switch i % 4 {
		case 1:
			p.Spec.NodeSelector = map[string]string{"topology.kubernetes.io/zone": zones[i%len(zones)]}
		case 2:
			p.Spec.Tolerations = []v1.Toleration{{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}}
			p.Spec.Containers[0].Resources.Requests[extendedGPU] = q("1")
			p.Spec.Containers[0].Resources.Limits = v1.ResourceList{extendedGPU: q("1")}
		case 3:
			p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []v1.PreferredSchedulingTerm{
				{Weight: 80, Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "topology.kubernetes.io/zone", Operator: v1.NodeSelectorOpIn, Values: []string{zones[i%len(zones)]}}}}},
				{Weight: 20, Preference: v1.NodeSelectorTerm{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "node.kubernetes.io/instance-type", Operator: v1.NodeSelectorOpIn, Values: []string{"large"}}}}},
			}}}
		}
		s.Pods = append(s.Pods, p)
	}
	return s
}

func speedPod(name, cpu, mem string, base time.Time) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": "web"}, CreationTimestamp: metav1.NewTime(base)},
		Spec: v1.PodSpec{SchedulerName: "sextant", Containers: []v1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse(mem)}}}}},
	}
}

// cycle runs upstream's PreFilter, Filter (every node, or the PreFilterResult's), PreScore and
// Score for pod, as evaluate does but building no verdicts; it returns the feasible count.
func (u *upstream) cycle(ctx context.Context, pod *v1.Pod) (int, error) {
	state := framework.NewCycleState()
	preRes, st, _ := u.fw.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return 0, st.AsError()
		}
		return 0, nil
	}
	all, err := u.snap.NodeInfos().List()
	if err != nil {
		return 0, err
	}
	feasible := make([]fwk.NodeInfo, 0, len(all))
	for _, ni := range all {
		if !preRes.AllNodes() && !preRes.NodeNames.Has(ni.Node().Name) {
			continue
		}
		st := u.fw.RunFilterPlugins(ctx, state, pod, ni)
		if st.IsSuccess() {
			feasible = append(feasible, ni)
		} else if !st.IsRejected() {
			return 0, st.AsError()
		}
	}
	if len(feasible) == 0 {
		return 0, nil
	}
	if st := u.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return 0, st.AsError()
	}
	if _, st := u.fw.RunScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return 0, st.AsError()
	}
	return len(feasible), nil
}

// Speed loads s into upstream's framework and into the engine, runs every pending pod once on
// both sides as a warm-up, then once more timed, and returns the per-pod medians.
func Speed(ctx context.Context, s *Snapshot, engine Engine) (SpeedRow, error) {
	row := SpeedRow{Nodes: len(s.Nodes)}
	up, err := newUpstream(ctx, s)
	if err != nil {
		return row, err
	}
	defer up.close()
	if err := engine.Load(ctx, s); err != nil {
		return row, fmt.Errorf("%s: loading the engine: %w", s.Name, err)
	}
	pending := s.PendingPods()
	row.PendingPods = len(pending)
	row.RunningPods = len(s.Pods) - len(pending)
	if len(pending) == 0 {
		return row, fmt.Errorf("%s: no pending pods", s.Name)
	}
	var upT, enT []time.Duration
	var feasible []int
	for pass := 0; pass < 2; pass++ {
		for _, pod := range pending {
			t0 := time.Now()
			nf, err := up.cycle(ctx, pod)
			d := time.Since(t0)
			if err != nil {
				return row, fmt.Errorf("%s: upstream on %s: %w", s.Name, podKey(pod), err)
			}
			selector, err := up.defaultSpreadSelector(pod)
			if err != nil {
				return row, err
			}
			t0 = time.Now()
			_, err = engine.Evaluate(ctx, pod, selector)
			e := time.Since(t0)
			if err != nil {
				return row, fmt.Errorf("%s: engine Evaluate(%s): %w", s.Name, podKey(pod), err)
			}
			if pass == 1 {
				upT, enT, feasible = append(upT, d), append(enT, e), append(feasible, nf)
			}
		}
	}
	row.UpstreamMedian, row.EngineMedian = medianDuration(upT), medianDuration(enT)
	sort.Ints(feasible)
	row.MedianFeasible = feasible[len(feasible)/2]
	return row, nil
}

func medianDuration(ds []time.Duration) time.Duration {
	xs := append([]time.Duration(nil), ds...)
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// WriteSpeedTable prints rows as a table: nodes, upstream median µs/pod, engine gRPC median
// µs/pod, upstream/engine ratio.
func WriteSpeedTable(w io.Writer, rows []SpeedRow) {
	fmt.Fprintf(w, "%8s %8s %8s %9s %22s %24s %8s\n", "nodes", "running", "pending", "feasible", "upstream_us_per_pod", "engine_grpc_us_per_pod", "ratio")
	for _, r := range rows {
		fmt.Fprintf(w, "%8d %8d %8d %9d %22.1f %24.1f %8.2f\n", r.Nodes, r.RunningPods, r.PendingPods, r.MedianFeasible,
			float64(r.UpstreamMedian.Nanoseconds())/1e3, float64(r.EngineMedian.Nanoseconds())/1e3, r.Ratio())
	}
}
