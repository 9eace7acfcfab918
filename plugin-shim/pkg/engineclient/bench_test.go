package engineclient

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"

	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// The Evaluate benchmarks measure one client round trip (encode, gRPC over a unix socket, the
// engine's scheduling cycle, decode and the client's checks) against a real `sextant serve`
// holding a synced cluster. They skip unless SEXTANT_ENGINE_BINARY is set:
//
//	SEXTANT_ENGINE_BINARY=../build/sextant go test -run '^$' -bench EvaluateRoundTrip -benchtime 200x ./pkg/engineclient/

func BenchmarkEvaluateRoundTrip1kNodes(b *testing.B) { benchmarkEvaluateRoundTrip(b, 1000) }

func BenchmarkEvaluateRoundTrip5kNodes(b *testing.B) { benchmarkEvaluateRoundTrip(b, 5000) }

func benchmarkEvaluateRoundTrip(b *testing.B, nodes int) {
	address := enginetest.StartRealEngine(b)
	objects := benchCluster(nodes, 5*nodes)
	cs := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	ctx, cancel := context.WithCancel(context.Background())
	client, err := New(Options{Address: address, Timeout: 5 * time.Second}, factory, klog.Background())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	// Cleanups run last-registered first: the client stops before the engine is interrupted.
	b.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	factory.Start(ctx.Done())
	go func() {
		client.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if synced, _, _ := client.Synced(); synced {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the engine did not acknowledge a snapshot of %d objects", len(objects))
		}
		time.Sleep(10 * time.Millisecond)
	}

	pod := benchPod("bench", "pending", "", 0)
	// One warm-up call, and a check that the engine found a node.
	resp, err := client.Evaluate(ctx, pod)
	if err != nil {
		b.Fatal(err)
	}
	if resp.ChosenNode == "" {
		b.Fatalf("no node chosen for the benchmark pod: %v", resp)
	}
	// The answer's size, and the Go side's share of a round trip: unmarshalling it.
	wire, err := proto.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	const decodes = 20
	start := time.Now()
	for i := 0; i < decodes; i++ {
		if err := proto.Unmarshal(wire, &sextantv1.EvaluateResponse{}); err != nil {
			b.Fatal(err)
		}
	}
	decodeNs := float64(time.Since(start).Nanoseconds()) / decodes
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := client.Evaluate(ctx, pod); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(wire)), "resp-bytes")
	b.ReportMetric(decodeNs, "decode-ns")
}

// benchCluster builds nodes (every fifth a GPU node, tainted) spread over three zones, and pods
// running on them round robin.
func benchCluster(nodes, pods int) []runtime.Object {
	created := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	out := make([]runtime.Object, 0, nodes+pods)
	names := make([]string, nodes)
	for i := 0; i < nodes; i++ {
		name := fmt.Sprintf("node-%05d", i)
		names[i] = name
		gpu := i%5 == 4
		labels := map[string]string{
			"kubernetes.io/hostname":           name,
			"kubernetes.io/os":                 "linux",
			"kubernetes.io/arch":               "amd64",
			"topology.kubernetes.io/region":    "us-east-1",
			"topology.kubernetes.io/zone":      zones[i%len(zones)],
			"node.kubernetes.io/instance-type": "m6i.4xlarge",
		}
		allocatable := rl("cpu", "15890m", "memory", "62Gi", "ephemeral-storage", "95Gi", "pods", "110")
		capacity := rl("cpu", "16", "memory", "64Gi", "ephemeral-storage", "100Gi", "pods", "110")
		var taints []v1.Taint
		if gpu {
			labels["node.kubernetes.io/instance-type"] = "p4d.24xlarge"
			labels["nvidia.com/gpu.present"] = "true"
			allocatable = rl("cpu", "95690m", "memory", "1100Gi", "ephemeral-storage", "950Gi", "pods", "110", "nvidia.com/gpu", "8")
			capacity = rl("cpu", "96", "memory", "1152Gi", "ephemeral-storage", "1000Gi", "pods", "110", "nvidia.com/gpu", "8")
			taints = []v1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: v1.TaintEffectNoSchedule}}
		}
		out = append(out, &v1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, UID: types.UID("uid-" + name), CreationTimestamp: created},
			Spec:       v1.NodeSpec{Taints: taints},
			Status: v1.NodeStatus{
				Capacity: capacity, Allocatable: allocatable,
				Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
			},
		})
	}
	for i := 0; i < pods; i++ {
		out = append(out, benchPod(fmt.Sprintf("team-%d", i%20), fmt.Sprintf("app-%d-%06d", i%50, i), names[i%nodes], i))
	}
	return out
}

// benchPod is a Deployment-style pod with cpu and memory requests; a bound one is Running.
func benchPod(namespace, name, nodeName string, i int) *v1.Pod {
	phase := v1.PodPending
	if nodeName != "" {
		phase = v1.PodRunning
	}
	cpus := []string{"100m", "250m", "500m", "1"}
	mems := []string{"128Mi", "256Mi", "512Mi", "1Gi"}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name, UID: types.UID("uid-" + namespace + "-" + name),
			Labels:            map[string]string{"app": fmt.Sprintf("app-%d", i%50), "tier": "backend"},
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
		Spec: v1.PodSpec{
			NodeName: nodeName, SchedulerName: "sextant",
			Containers: []v1.Container{{Name: "app", Image: "registry.example/app:1",
				Resources: v1.ResourceRequirements{Requests: rl("cpu", cpus[i%len(cpus)], "memory", mems[i%len(mems)])}}},
		},
		Status: v1.PodStatus{Phase: phase},
	}
}
