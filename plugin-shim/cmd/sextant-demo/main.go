// Command sextant-demo starts a local control plane (etcd, kube-apiserver with RBAC, the Sextant
// engine and sextant-scheduler; see pkg/controlplane), plays a mixed AI cluster's day on it and
// prints what was placed where and why:
//
//   - a dedicated GPU pool (tainted) and a shared CPU pool, with zones;
//   - a Guaranteed, high-priority inference service with host anti-affinity and zone spreading:
//     one replica per GPU node, the replica too many pending with the engine's reasons;
//   - a Burstable, low-priority training batch that fills the shared pool, and BestEffort scratch pods;
//   - a Guaranteed, high-priority agent gateway arriving into the full pool, preempting exactly one
//     batch pod.
//
// deploy/dev.sh demo live builds everything and runs it. With --keep the control plane stays up
// (admin kubeconfig printed) until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1qos "k8s.io/kubectl/pkg/util/qos"

	"sextant.io/plugin-shim/pkg/controlplane"
)

const namespace = "ai-platform"

func main() {
	bins := controlplane.BinariesFromEnv()
	flag.StringVar(&bins.Engine, "engine", bins.Engine, "the engine binary (`sextant`; default $SEXTANT_ENGINE_BINARY)")
	flag.StringVar(&bins.Etcd, "etcd", bins.Etcd, "etcd binary (default $SEXTANT_ETCD_BINARY, else built here)")
	flag.StringVar(&bins.APIServer, "kube-apiserver", bins.APIServer, "kube-apiserver binary (default $SEXTANT_APISERVER_BINARY, else built here)")
	flag.StringVar(&bins.Scheduler, "scheduler", bins.Scheduler, "sextant-scheduler binary (default $SEXTANT_SCHEDULER_BINARY, else built here)")
	dir := flag.String("dir", "", "directory for the control plane's certificates, data and logs (default: a new temporary one)")
	keep := flag.Bool("keep", false, "keep the control plane running after the demo, until interrupted")
	flag.Parse()
	if err := run(bins, *dir, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "sextant-demo:", err)
		os.Exit(1)
	}
}

func run(bins controlplane.Binaries, dir string, keep bool) error {
	if bins.Engine == "" {
		return fmt.Errorf("--engine (or SEXTANT_ENGINE_BINARY) must name a built engine, e.g. build/sextant")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := controlplane.FindRepoRoot()
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sextant-demo-"); err != nil {
			return err
		}
	}
	if bins, err = controlplane.BuildBinaries(ctx, root, filepath.Join(dir, "bin"), bins); err != nil {
		return err
	}
	start := time.Now()
	cp, err := controlplane.Start(ctx, controlplane.Options{
		Dir: filepath.Join(dir, "cluster"), Binaries: bins, RepoRoot: root, SchedulerVerbosity: 1,
		Logf: func(format string, args ...any) { fmt.Printf("  "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	defer cp.Stop()
	fmt.Printf("==> control plane up in %v (logs: %s)\n\n", time.Since(start).Round(time.Millisecond), cp.Dir())

	d := &demo{ctx: ctx, cp: cp}
	if err := d.play(); err != nil {
		return fmt.Errorf("%w (logs: %s)", err, cp.Dir())
	}
	if keep {
		fmt.Printf("\n==> the control plane keeps running; kubectl --kubeconfig %s get pods -A -o wide\n    Ctrl-C stops it.\n",
			filepath.Join(cp.Dir(), "admin.kubeconfig"))
		<-ctx.Done()
	}
	return nil
}

type demo struct {
	ctx context.Context
	cp  *controlplane.ControlPlane
}

func (d *demo) play() error {
	admin := d.cp.Admin
	fmt.Println("==> cluster: 3 GPU nodes (8 GPUs each, tainted dedicated=gpu), 4 shared CPU nodes, 3 zones")
	for i := range 3 {
		if _, err := d.cp.CreateNode(d.ctx, controlplane.NodeSpec{
			Name: fmt.Sprintf("gpu-%d", i), CPU: "32", Memory: "256Gi",
			Extended: map[corev1.ResourceName]string{"nvidia.com/gpu": "8"},
			Labels:   map[string]string{"pool": "gpu", corev1.LabelTopologyZone: zone(i)},
			Taints:   []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
		}); err != nil {
			return err
		}
	}
	for i := range 4 {
		if _, err := d.cp.CreateNode(d.ctx, controlplane.NodeSpec{
			Name: fmt.Sprintf("cpu-%d", i), CPU: "16", Memory: "64Gi",
			Labels: map[string]string{"pool": "shared", corev1.LabelTopologyZone: zone(i)},
		}); err != nil {
			return err
		}
	}
	for name, value := range map[string]int32{"inference-critical": 1000000, "agent-critical": 500000, "batch-low": 100} {
		if _, err := admin.SchedulingV1().PriorityClasses().Create(d.ctx, &schedulingv1.PriorityClass{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value,
		}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	if _, err := admin.CoreV1().Namespaces().Create(d.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}

	fmt.Println("==> llm-serve: 4 Guaranteed replicas (4 GPUs each), priority inference-critical, one per host")
	serve := map[string]string{"app": "llm-serve"}
	for i := range 4 {
		if err := d.create(pod{
			name: "llm-serve-" + strconv.Itoa(i), labels: serve, priority: "inference-critical",
			requests: resources("8", "64Gi", 4), limits: resources("8", "64Gi", 4),
			tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			affinity: &corev1.Affinity{
				NodeAffinity: nodeIn("pool", "gpu"),
				PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					LabelSelector: &metav1.LabelSelector{MatchLabels: serve}, TopologyKey: corev1.LabelHostname,
				}}},
			},
			spread: []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: serve},
			}},
		}); err != nil {
			return err
		}
	}
	if err := d.settle(4); err != nil {
		return err
	}

	fmt.Println("==> train-batch: 8 Burstable pods (7 CPU requested, 14 limit), priority batch-low; 2 BestEffort scratch pods")
	for i := range 8 {
		if err := d.create(pod{
			name: "train-batch-" + strconv.Itoa(i), labels: map[string]string{"app": "train-batch"}, priority: "batch-low",
			requests: resources("7", "8Gi", 0), limits: resources("14", "16Gi", 0),
			nodeSelector: map[string]string{"pool": "shared"},
		}); err != nil {
			return err
		}
	}
	for i := range 2 {
		if err := d.create(pod{name: "scratch-" + strconv.Itoa(i), labels: map[string]string{"app": "scratch"}}); err != nil {
			return err
		}
	}
	if err := d.settle(14); err != nil {
		return err
	}

	fmt.Println("==> agent-gateway arrives: Guaranteed, 4 CPU, priority agent-critical; the shared pool has 2 CPU free per node")
	if err := d.create(pod{
		name: "agent-gateway", labels: map[string]string{"app": "agent-gateway"}, priority: "agent-critical",
		requests: resources("4", "8Gi", 0), limits: resources("4", "8Gi", 0),
		nodeSelector: map[string]string{"pool": "shared"},
	}); err != nil {
		return err
	}
	if err := d.waitBound("agent-gateway", 60*time.Second); err != nil {
		return err
	}
	time.Sleep(time.Second) // let the last events land
	return d.report()
}

// settle waits until n pods are bound or refused with reasons.
func (d *demo) settle(n int) error {
	_, err := controlplane.WaitForPods(d.ctx, d.cp.Admin, namespace, 60*time.Second, func(pods []corev1.Pod) (bool, error) {
		done := 0
		for _, p := range pods {
			if p.Spec.NodeName != "" || controlplane.Refused(&p) {
				done++
			}
		}
		return done >= n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d pods to be placed or refused: %w", n, err)
	}
	return nil
}

func (d *demo) waitBound(name string, timeout time.Duration) error {
	_, err := controlplane.WaitForPods(d.ctx, d.cp.Admin, namespace, timeout, func(pods []corev1.Pod) (bool, error) {
		for _, p := range pods {
			if p.Name == name && p.Spec.NodeName != "" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to be bound: %w", name, err)
	}
	return nil
}

func (d *demo) report() error {
	pods, err := d.cp.Admin.CoreV1().Pods(namespace).List(d.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "POD\tPRIORITY\tQOS\tNODE\tZONE")
	zones := map[string]string{}
	nodes, err := d.cp.Admin.CoreV1().Nodes().List(d.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, n := range nodes.Items {
		zones[n.Name] = n.Labels[corev1.LabelTopologyZone]
	}
	var pending []corev1.Pod
	for _, p := range pods.Items {
		node := p.Spec.NodeName
		if node == "" {
			node = "(pending)"
			pending = append(pending, p)
		}
		priority := "0"
		if p.Spec.Priority != nil {
			priority = strconv.Itoa(int(*p.Spec.Priority))
		}
		fmt.Fprintf(w, "%s\t%s %s\t%s\t%s\t%s\n", p.Name, p.Spec.PriorityClassName, priority, v1qos.GetPodQOS(&p), node, zones[p.Spec.NodeName])
	}
	w.Flush()

	fmt.Println("\n==> why pending (the engine's reasons, as upstream words them)")
	for _, p := range pending {
		fmt.Printf("  %s: %s\n", p.Name, unschedulableMessage(&p))
	}
	events, err := d.cp.Admin.CoreV1().Events(namespace).List(d.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	fmt.Println("\n==> preemption")
	byUID := map[string]string{}
	for _, p := range pods.Items {
		byUID[string(p.UID)] = p.Name
	}
	uid := regexp.MustCompile(`pod ([0-9a-f-]{36})`)
	preempted := 0
	for _, ev := range events.Items {
		if ev.Reason != "Preempted" {
			continue
		}
		preempted++
		msg := uid.ReplaceAllStringFunc(ev.Message, func(m string) string {
			if name, ok := byUID[strings.TrimPrefix(m, "pod ")]; ok {
				return "pod " + name
			}
			return m
		})
		fmt.Printf("  %s: %s\n", ev.InvolvedObject.Name, msg)
	}
	if preempted == 0 {
		fmt.Println("  (none)")
	}

	metrics, err := d.cp.SchedulerMetrics(d.ctx)
	if err != nil {
		return err
	}
	fmt.Println("\n==> engine round trips seen by the scheduler (its /metrics)")
	for _, method := range []string{"Evaluate", "Preempt", "Assume", "Sync"} {
		count, sum := metricValue(metrics, "sextant_engine_request_duration_seconds_count", method),
			metricValue(metrics, "sextant_engine_request_duration_seconds_sum", method)
		if count > 0 {
			fmt.Printf("  %-8s %4.0f calls, mean %.2f ms\n", method, count, 1000*sum/count)
		}
	}
	return nil
}

func metricValue(text, name, method string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*method="` + method + `"[^}]*\} ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func unschedulableMessage(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return c.Message
		}
	}
	return ""
}

func zone(i int) string { return "zone-" + string(rune('a'+i%3)) }

type pod struct {
	name             string
	labels           map[string]string
	priority         string
	requests, limits corev1.ResourceList
	nodeSelector     map[string]string
	tolerations      []corev1.Toleration
	affinity         *corev1.Affinity
	spread           []corev1.TopologySpreadConstraint
}

func (d *demo) create(p pod) error {
	_, err := d.cp.Admin.CoreV1().Pods(namespace).Create(d.ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: namespace, Labels: p.labels},
		Spec: corev1.PodSpec{
			SchedulerName:             "sextant",
			PriorityClassName:         p.priority,
			NodeSelector:              p.nodeSelector,
			Tolerations:               p.tolerations,
			Affinity:                  p.affinity,
			TopologySpreadConstraints: p.spread,
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: p.requests, Limits: p.limits},
			}},
		},
	}, metav1.CreateOptions{})
	return err
}

func resources(cpu, memory string, gpus int64) corev1.ResourceList {
	list := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
	if gpus > 0 {
		list["nvidia.com/gpu"] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return list
}

func nodeIn(key string, values ...string) *corev1.NodeAffinity {
	return &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
			Key: key, Operator: corev1.NodeSelectorOpIn, Values: values,
		}}}},
	}}
}
