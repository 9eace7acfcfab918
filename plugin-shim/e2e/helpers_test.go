package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"

	"sextant.io/plugin-shim/pkg/controlplane"
)

const schedulerName = "sextant"

// env is one test's slice of the shared control plane: a namespace and the nodes it registered,
// all removed when the test ends.
type env struct {
	t         *testing.T
	ctx       context.Context
	namespace string
	nodes     []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	e := &env{t: t, ctx: ctx, namespace: "e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))}
	if len(e.namespace) > 63 {
		e.namespace = e.namespace[:63]
	}
	if _, err := cp.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: e.namespace},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("namespace %s: %v", e.namespace, err)
	}
	t.Cleanup(func() {
		defer cancel()
		e.cleanup()
	})
	return e
}

func (e *env) cleanup() {
	ctx := context.Background()
	zero := int64(0)
	if err := cp.Admin.CoreV1().Pods(e.namespace).DeleteCollection(ctx,
		metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{}); err != nil {
		e.t.Errorf("deleting pods of %s: %v", e.namespace, err)
	}
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := cp.Admin.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == 0, nil
	})
	for _, name := range e.nodes {
		if err := cp.Admin.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			e.t.Errorf("deleting node %s: %v", name, err)
		}
	}
	if err := cp.Admin.CoreV1().Namespaces().Delete(ctx, e.namespace, metav1.DeleteOptions{}); err != nil {
		e.t.Errorf("deleting namespace %s: %v", e.namespace, err)
	}
}

func (e *env) node(spec controlplane.NodeSpec) {
	e.t.Helper()
	if _, err := cp.CreateNode(e.ctx, spec); err != nil {
		e.t.Fatalf("node %s: %v", spec.Name, err)
	}
	e.nodes = append(e.nodes, spec.Name)
}

func (e *env) priorityClass(name string, value int32) {
	e.t.Helper()
	_, err := cp.Admin.SchedulingV1().PriorityClasses().Create(e.ctx, &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value,
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		e.t.Fatalf("priority class %s: %v", name, err)
	}
	e.t.Cleanup(func() {
		_ = cp.Admin.SchedulingV1().PriorityClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// podSpec is a pod with one container requesting (and, when guaranteed, limited to) the given
// resources.
type podSpec struct {
	name          string
	scheduler     string // "": sextant
	cpu, memory   string
	gpus          int
	guaranteed    bool
	priorityClass string
	labels        map[string]string
	nodeSelector  map[string]string
	tolerations   []corev1.Toleration
	affinity      *corev1.Affinity
}

func (e *env) pod(spec podSpec) *corev1.Pod {
	e.t.Helper()
	pod, err := cp.Admin.CoreV1().Pods(e.namespace).Create(e.ctx, makePod(e.namespace, spec), metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("pod %s: %v", spec.name, err)
	}
	return pod
}

func makePod(namespace string, spec podSpec) *corev1.Pod {
	scheduler := spec.scheduler
	if scheduler == "" {
		scheduler = schedulerName
	}
	requests := corev1.ResourceList{}
	if spec.cpu != "" {
		requests[corev1.ResourceCPU] = resource.MustParse(spec.cpu)
	}
	if spec.memory != "" {
		requests[corev1.ResourceMemory] = resource.MustParse(spec.memory)
	}
	if spec.gpus > 0 {
		requests["nvidia.com/gpu"] = *resource.NewQuantity(int64(spec.gpus), resource.DecimalSI)
	}
	resources := corev1.ResourceRequirements{Requests: requests}
	if spec.guaranteed || spec.gpus > 0 { // extended resources must have limit == request
		resources.Limits = corev1.ResourceList{}
		for name, q := range requests {
			if spec.guaranteed || name == "nvidia.com/gpu" {
				resources.Limits[name] = q
			}
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: spec.name, Namespace: namespace, Labels: spec.labels},
		Spec: corev1.PodSpec{
			SchedulerName:     scheduler,
			PriorityClassName: spec.priorityClass,
			NodeSelector:      spec.nodeSelector,
			Tolerations:       spec.tolerations,
			Affinity:          spec.affinity,
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.k8s.io/pause:3.10", Resources: resources,
			}},
		},
	}
}

// waitBound waits until every named pod is bound and returns name -> node.
func (e *env) waitBound(timeout time.Duration, names ...string) map[string]string {
	e.t.Helper()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	nodes := map[string]string{}
	pods, err := controlplane.WaitForPods(e.ctx, cp.Admin, e.namespace, timeout, func(pods []corev1.Pod) (bool, error) {
		bound := 0
		for _, p := range pods {
			if want[p.Name] && p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == len(want), nil
	})
	for _, p := range pods {
		if want[p.Name] {
			nodes[p.Name] = p.Spec.NodeName
		}
	}
	if err != nil {
		e.t.Fatalf("waiting for %v to be bound: %v; bound so far: %v\n%s", names, err, nodes, e.events())
	}
	return nodes
}

// events lists the namespace's events, for failure messages.
func (e *env) events() string {
	list, err := cp.Admin.CoreV1().Events(e.namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("(events: %v)", err)
	}
	var b strings.Builder
	for _, ev := range list.Items {
		fmt.Fprintf(&b, "  %s %s %s [%s]: %s\n", ev.InvolvedObject.Name, ev.Type, ev.Reason, ev.ReportingController, ev.Message)
	}
	return b.String()
}

// podEvents lists the events about one pod with the given reason.
func (e *env) podEvents(pod, reason string) []corev1.Event {
	e.t.Helper()
	list, err := cp.Admin.CoreV1().Events(e.namespace).List(e.ctx, metav1.ListOptions{
		FieldSelector: fields.AndSelectors(
			fields.OneTermEqualSelector("involvedObject.name", pod),
			fields.OneTermEqualSelector("reason", reason),
		).String(),
	})
	if err != nil {
		e.t.Fatalf("events of %s: %v", pod, err)
	}
	return list.Items
}

func toleration(key, value string) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpEqual, Value: value, Effect: corev1.TaintEffectNoSchedule}
}

func requireNodeIn(key string, values ...string) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: key, Operator: corev1.NodeSelectorOpIn, Values: values,
			}}}},
		},
	}}
}

func hostAntiAffinity(labels map[string]string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
			TopologyKey:   corev1.LabelHostname,
		}},
	}}
}

// boundOnce checks, from the API server's audit log, that each named pod of the namespace had
// exactly one binding request, made by the scheduler and accepted. A second attempt (even one
// the API server refused) means the scheduler lost track of a pod it had bound.
// It returns the number of pods that fail the check.
func (e *env) boundOnce(names ...string) int {
	e.t.Helper()
	bindings, err := cp.Bindings()
	if err != nil {
		e.t.Fatalf("audit log: %v", err)
	}
	bad := 0
	for _, name := range names {
		b := bindings[e.namespace+"/"+name]
		if len(b) != 1 || b[0].Code != 201 || b[0].User != controlplane.SchedulerUser {
			bad++
			e.t.Errorf("%s: want one accepted binding by %s, audit log has %+v", name, controlplane.SchedulerUser, b)
		}
	}
	return bad
}

// settled counts the bound pods and those the scheduler refused as Unschedulable.
func settled(pods []corev1.Pod) (bound, refused int) {
	for i := range pods {
		if pods[i].Spec.NodeName != "" {
			bound++
		} else if controlplane.Refused(&pods[i]) {
			refused++
		}
	}
	return bound, refused
}
