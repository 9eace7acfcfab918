package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sextant.io/plugin-shim/pkg/controlplane"
)

// Pods keep arriving while the engine is killed (SIGKILL) several times and the scheduler is
// restarted once. At the end every pod that fits is bound exactly once (one Scheduled event, one
// node), every pod that cannot fit is pending with the engine's reasons, and none is lost.
// SEXTANT_SOAK_PODS sets the number of pods (default 600; the figures in docs/reliability.md come
// from larger runs).
func TestSoakRestarts(t *testing.T) {
	total := 600
	if v := os.Getenv("SEXTANT_SOAK_PODS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 50 {
			t.Fatalf("SEXTANT_SOAK_PODS=%q: want an integer >= 50", v)
		}
		total = n
	}
	e := newEnv(t)
	// Room for every pod (250m each) with a third to spare.
	nodes := max(4, total/96)
	for i := range nodes {
		e.node(controlplane.NodeSpec{Name: fmt.Sprintf("soak-%03d", i), CPU: "32", Memory: "128Gi",
			Labels: map[string]string{"topology.kubernetes.io/zone": "zone-" + strconv.Itoa(i%3)}})
	}
	// One pod in fifty asks for more CPU than any node has: it must stay pending with reasons.
	unfit := func(i int) bool { return i%50 == 49 }

	const engineKills = 3
	var (
		mu      sync.Mutex
		created []string
	)
	createErrs := make(chan error, 1)
	start := time.Now()
	go func() {
		defer close(createErrs)
		for i := range total {
			spec := podSpec{name: "soak-" + strconv.Itoa(i), cpu: "250m", memory: "256Mi",
				labels: map[string]string{"app": "soak-" + strconv.Itoa(i%10)}}
			if unfit(i) {
				spec.cpu = "64"
			}
			if _, err := cp.Admin.CoreV1().Pods(e.namespace).Create(e.ctx, makePod(e.namespace, spec), metav1.CreateOptions{}); err != nil {
				createErrs <- fmt.Errorf("pod %s: %w", spec.name, err)
				return
			}
			mu.Lock()
			created = append(created, spec.name)
			mu.Unlock()
			if i%20 == 19 {
				time.Sleep(50 * time.Millisecond) // a steady stream, not one burst
			}
		}
	}()
	createdCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(created)
	}
	waitCreated := func(n int) {
		for createdCount() < n {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for k := 1; k <= engineKills; k++ {
		waitCreated(total * k / (engineKills + 2))
		cp.KillEngine()
		time.Sleep(time.Second)
		if err := cp.StartEngine(e.ctx); err != nil {
			t.Fatal(err)
		}
		if k == 2 {
			cp.StopScheduler()
			if err := cp.StartScheduler(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := <-createErrs; err != nil {
		t.Fatal(err)
	}
	createdAt := time.Since(start)

	fits := 0
	for i := range total {
		if !unfit(i) {
			fits++
		}
	}
	// Settled: every pod that fits is bound, and every pod that cannot was last refused as
	// Unschedulable (a pod whose last attempt met a killed engine is retried after backoff).
	pods, err := controlplane.WaitForPods(e.ctx, cp.Admin, e.namespace, 4*time.Minute, func(pods []corev1.Pod) (bool, error) {
		bound, refused := settled(pods)
		return bound >= fits && refused >= total-fits, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d pods to be bound and %d refused: %v", fits, total-fits, err)
	}
	elapsed := time.Since(start)

	// The pending pods' reasons: the PodScheduled condition carries the latest FailedScheduling
	// message (events may be dropped when the scheduler stops; the condition is not).
	reasons := map[string]string{}
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				reasons[p.Name] = c.Message
			}
		}
	}
	byName := map[string]corev1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	lost, wrong := 0, 0
	var boundNames []string
	for i := range total {
		name := "soak-" + strconv.Itoa(i)
		p, ok := byName[name]
		switch {
		case !ok:
			lost++
			t.Errorf("%s is gone", name)
		case unfit(i):
			if p.Spec.NodeName != "" {
				wrong++
				t.Errorf("%s asks for 64 CPUs and was bound to %s", name, p.Spec.NodeName)
			} else if !strings.Contains(reasons[name], "Insufficient cpu") {
				wrong++
				t.Errorf("%s is pending without the engine's reasons (FailedScheduling: %q)", name, reasons[name])
			}
		case p.Spec.NodeName == "":
			lost++
			t.Errorf("%s was never bound", name)
		default:
			boundNames = append(boundNames, name)
		}
	}
	doubles := e.boundOnce(boundNames...)
	t.Logf("soak: %d pods (%d unschedulable by design) on %d nodes; %d engine kills, 1 scheduler restart; "+
		"created in %v, all settled in %v; lost %d, not bound exactly once %d, wrong %d",
		total, total-fits, nodes, engineKills, createdAt.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		lost, doubles, wrong)
}
