package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sextant.io/plugin-shim/pkg/controlplane"
)

var gpuTaint = corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}

// Pods for Sextant are bound where taints, node affinity, pod anti-affinity and resources allow;
// pods for another scheduler are left alone.
func TestPlacement(t *testing.T) {
	e := newEnv(t)
	e.node(controlplane.NodeSpec{Name: "place-gpu", CPU: "32", Memory: "128Gi",
		Extended: map[corev1.ResourceName]string{"nvidia.com/gpu": "8"},
		Labels:   map[string]string{"pool": "gpu"}, Taints: []corev1.Taint{gpuTaint}})
	e.node(controlplane.NodeSpec{Name: "place-small", CPU: "4", Memory: "16Gi", Labels: map[string]string{"pool": "shared"}})
	e.node(controlplane.NodeSpec{Name: "place-big", CPU: "16", Memory: "64Gi", Labels: map[string]string{"pool": "shared"}})

	e.pod(podSpec{name: "inference", cpu: "4", memory: "16Gi", gpus: 2, guaranteed: true,
		tolerations: []corev1.Toleration{toleration("dedicated", "gpu")}, affinity: requireNodeIn("pool", "gpu")})
	e.pod(podSpec{name: "web", cpu: "1", memory: "1Gi"})
	e.pod(podSpec{name: "batch-big", cpu: "8", memory: "8Gi"})
	e.pod(podSpec{name: "pinned", cpu: "1", affinity: requireNodeIn(corev1.LabelHostname, "place-small")})
	replica := map[string]string{"app": "replica"}
	for _, name := range []string{"replica-a", "replica-b"} {
		e.pod(podSpec{name: name, cpu: "500m", labels: replica, nodeSelector: map[string]string{"pool": "shared"},
			affinity: hostAntiAffinity(replica)})
	}
	e.pod(podSpec{name: "other-scheduler", scheduler: "default-scheduler", cpu: "100m"})

	nodes := e.waitBound(60*time.Second, "inference", "web", "batch-big", "pinned", "replica-a", "replica-b")
	expect := map[string]string{"inference": "place-gpu", "batch-big": "place-big", "pinned": "place-small"}
	for pod, node := range expect {
		if nodes[pod] != node {
			t.Errorf("%s bound to %q, want %q", pod, nodes[pod], node)
		}
	}
	if nodes["web"] == "place-gpu" {
		t.Errorf("web (no toleration) bound to the tainted GPU node")
	}
	if nodes["replica-a"] == nodes["replica-b"] {
		t.Errorf("replicas with required host anti-affinity share node %s", nodes["replica-a"])
	}
	e.boundOnce("inference", "web", "batch-big", "pinned", "replica-a", "replica-b")
	// Nothing runs the default scheduler here: the pod must stay unbound and untouched.
	time.Sleep(2 * time.Second)
	other, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "other-scheduler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec.NodeName != "" || len(other.Status.Conditions) != 0 {
		t.Errorf("a pod for default-scheduler was touched: node %q, conditions %v", other.Spec.NodeName, other.Status.Conditions)
	}
	if evs := e.podEvents("other-scheduler", "FailedScheduling"); len(evs) != 0 {
		t.Errorf("a pod for default-scheduler got FailedScheduling events: %v", evs)
	}
}

// An unschedulable pod gets a FailedScheduling event carrying the engine's reasons in upstream's
// words, and a PodScheduled=False condition.
func TestUnschedulableReasons(t *testing.T) {
	e := newEnv(t)
	e.node(controlplane.NodeSpec{Name: "why-a", CPU: "4", Memory: "16Gi", Labels: map[string]string{"pool": "shared"}})
	e.node(controlplane.NodeSpec{Name: "why-gpu", CPU: "32", Memory: "64Gi", Labels: map[string]string{"pool": "gpu"},
		Taints: []corev1.Taint{gpuTaint}})
	e.pod(podSpec{name: "too-big", cpu: "8", memory: "1Gi"})

	wants := []string{
		"0/2 nodes are available:",
		"1 Insufficient cpu",
		"1 node(s) had untolerated taint(s)",
		"preemption: 0/2 nodes are available:",
	}
	complete := func(message string) bool {
		for _, want := range wants {
			if !strings.Contains(message, want) {
				return false
			}
		}
		return true
	}
	// The first attempt may predate the second node reaching the scheduler; the pod is retried
	// when it does, and that attempt's event carries both nodes' reasons.
	var message string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !complete(message); time.Sleep(200 * time.Millisecond) {
		for _, ev := range e.podEvents("too-big", "FailedScheduling") {
			if ev.ReportingController == schedulerName && (message == "" || complete(ev.Message)) {
				message = ev.Message
			}
		}
	}
	if message == "" {
		t.Fatalf("no FailedScheduling event from %s for too-big:\n%s", schedulerName, e.events())
	}
	for _, want := range wants {
		if !strings.Contains(message, want) {
			t.Errorf("FailedScheduling message %q lacks %q", message, want)
		}
	}
	pod, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "too-big", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			found = true
		}
	}
	if !found || pod.Spec.NodeName != "" {
		t.Errorf("too-big: want unbound with PodScheduled=False/Unschedulable, got node %q conditions %v", pod.Spec.NodeName, pod.Status.Conditions)
	}
}

// A high-priority pod that fits nowhere preempts exactly the lowest-priority pod that makes room,
// and is bound to the node it freed.
func TestPreemption(t *testing.T) {
	e := newEnv(t)
	e.priorityClass("e2e-low", 100)
	e.priorityClass("e2e-mid", 200)
	e.priorityClass("e2e-critical", 100000)
	e.node(controlplane.NodeSpec{Name: "preempt-a", CPU: "4", Memory: "16Gi"})
	e.node(controlplane.NodeSpec{Name: "preempt-b", CPU: "4", Memory: "16Gi"})
	// Fill both nodes: two pods each. The lowest-priority pod is batch-low on preempt-a.
	e.pod(podSpec{name: "batch-low", cpu: "2", priorityClass: "e2e-low", affinity: requireNodeIn(corev1.LabelHostname, "preempt-a")})
	e.pod(podSpec{name: "batch-mid-a", cpu: "2", priorityClass: "e2e-mid", affinity: requireNodeIn(corev1.LabelHostname, "preempt-a")})
	e.pod(podSpec{name: "batch-mid-b1", cpu: "2", priorityClass: "e2e-mid", affinity: requireNodeIn(corev1.LabelHostname, "preempt-b")})
	e.pod(podSpec{name: "batch-mid-b2", cpu: "2", priorityClass: "e2e-mid", affinity: requireNodeIn(corev1.LabelHostname, "preempt-b")})
	e.waitBound(60*time.Second, "batch-low", "batch-mid-a", "batch-mid-b1", "batch-mid-b2")

	e.pod(podSpec{name: "critical", cpu: "2", memory: "1Gi", guaranteed: true, priorityClass: "e2e-critical"})
	nodes := e.waitBound(60*time.Second, "critical")
	if nodes["critical"] != "preempt-a" {
		t.Errorf("critical bound to %q, want preempt-a (whose victim has the lowest priority)", nodes["critical"])
	}
	if _, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "batch-low", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("batch-low should have been preempted and deleted, got %v", err)
	}
	list, err := cp.Admin.CoreV1().Pods(e.namespace).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	survivors := map[string]string{}
	for _, p := range list.Items {
		survivors[p.Name] = p.Spec.NodeName
	}
	for _, name := range []string{"batch-mid-a", "batch-mid-b1", "batch-mid-b2"} {
		if survivors[name] == "" {
			t.Errorf("%s was evicted or unbound; only batch-low should go (pods now: %v)", name, survivors)
		}
	}
	critical, err := cp.Admin.CoreV1().Pods(e.namespace).Get(e.ctx, "critical", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Upstream's words: "Preempted by pod <uid> on node <node>".
	want := "Preempted by pod " + string(critical.UID) + " on node preempt-a"
	if evs := e.podEvents("batch-low", "Preempted"); len(evs) != 1 || evs[0].Message != want {
		t.Errorf("want one Preempted event on batch-low %q, got %v", want, evs)
	}
}

// Killing the engine while pods arrive loses none and binds none twice: the shim fails the cycles
// it cannot answer, resynchronises the restarted engine, and every pod ends bound exactly once.
func TestEngineRestart(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		e.node(controlplane.NodeSpec{Name: "restart-" + strconv.Itoa(i), CPU: "16", Memory: "64Gi"})
	}
	const total = 80
	var names []string
	create := func(from, to int) {
		for i := from; i < to; i++ {
			name := "job-" + strconv.Itoa(i)
			names = append(names, name)
			e.pod(podSpec{name: name, cpu: "500m", memory: "512Mi"})
		}
	}
	create(0, 30)
	e.waitBound(60*time.Second, names[:10]...)
	cp.KillEngine()
	create(30, 55) // arrive while the engine is down
	time.Sleep(2 * time.Second)
	if err := cp.StartEngine(e.ctx); err != nil {
		t.Fatal(err)
	}
	create(55, total)
	nodes := e.waitBound(120*time.Second, names...)
	if len(nodes) != total {
		t.Fatalf("%d pods bound, want %d", len(nodes), total)
	}
	perNode := map[string]int{}
	for _, n := range nodes {
		perNode[n]++
	}
	e.boundOnce(names...)
	if !cp.SchedulerRunning() {
		t.Errorf("the scheduler exited while the engine restarted")
	}
	t.Logf("80 pods bound across the engine restart: %v", perNode)
}

// The shim's engine metrics are served on the scheduler's /metrics, behind delegated
// authentication and authorization.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.node(controlplane.NodeSpec{Name: "metrics-a", CPU: "4", Memory: "16Gi"})
	e.pod(podSpec{name: "observed", cpu: "100m"})
	e.waitBound(60*time.Second, "observed")
	body, err := cp.SchedulerMetrics(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := regexp.MustCompile(`(?m)^sextant_engine_request_duration_seconds_count\{[^}]*method="Evaluate"[^}]*\} (\d+)`)
	m := count.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Evaluate latency in /metrics:\n%s", grepLines(body, "sextant_"))
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 {
		t.Errorf("Evaluate latency count %s, want >= 1", m[1])
	}
	if !strings.Contains(body, "sextant_engine_request_duration_seconds_bucket") {
		t.Errorf("no latency histogram buckets in /metrics")
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// A burst of replicas with required host anti-affinity lands one per node, and the one replica too
// many stays pending: each replica's cycle sees the replicas assumed just before it, even while
// their own pending-pod updates are still on the way to the engine.
func TestAntiAffinityBurst(t *testing.T) {
	e := newEnv(t)
	const nodes = 6
	for i := range nodes {
		e.node(controlplane.NodeSpec{Name: "burst-" + strconv.Itoa(i), CPU: "8", Memory: "32Gi"})
	}
	labels := map[string]string{"app": "burst"}
	var names []string
	for i := range nodes + 1 {
		name := "replica-" + strconv.Itoa(i)
		e.pod(podSpec{name: name, cpu: "100m", labels: labels, affinity: hostAntiAffinity(labels)})
		names = append(names, name)
	}
	pods, err := controlplane.WaitForPods(e.ctx, cp.Admin, e.namespace, 60*time.Second, func(pods []corev1.Pod) (bool, error) {
		bound, refused := settled(pods)
		return bound+refused == nodes+1, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d replicas to settle: %v\n%s", nodes+1, err, e.events())
	}
	used := map[string]string{}
	var pending []string
	for _, p := range pods {
		if p.Spec.NodeName == "" {
			pending = append(pending, p.Name)
			continue
		}
		if other, ok := used[p.Spec.NodeName]; ok {
			t.Errorf("%s and %s share node %s despite required host anti-affinity", other, p.Name, p.Spec.NodeName)
		}
		used[p.Spec.NodeName] = p.Name
	}
	if len(pending) != 1 {
		t.Errorf("want exactly one replica pending, got %v", pending)
	}
}

// A pod that failed its cycle because the engine was down is retried on its own once the engine is
// back (backoff, not parked waiting for an unrelated cluster event).
func TestRetryAfterEngineOutage(t *testing.T) {
	e := newEnv(t)
	e.node(controlplane.NodeSpec{Name: "outage-a", CPU: "4", Memory: "16Gi"})
	time.Sleep(500 * time.Millisecond)
	cp.KillEngine()
	e.pod(podSpec{name: "lonely", cpu: "100m"})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if evs := e.podEvents("lonely", "FailedScheduling"); len(evs) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cp.StartEngine(e.ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.waitBound(60*time.Second, "lonely")
	t.Logf("bound %v after the engine came back", time.Since(start).Round(time.Millisecond))
	e.boundOnce("lonely")
}

