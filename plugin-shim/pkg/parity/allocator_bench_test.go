package parity

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/dynamic-resource-allocation/cel"
	"k8s.io/dynamic-resource-allocation/structured"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/dynamicresources"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/utils/ptr"
)

// The acceptance case of the allocator benchmarks, in the shapes of the C++ engine's
// bench/dra_allocator_benchmark.cc (BM_AllocateAllNodes, BM_AllocateAllNodesHalfTaken), so the
// two can be read side by side:
//
//   - N nodes "node-0".."node-<N-1>" (N = 10, 100, 1000; 1000 is the acceptance case), each
//     with one ResourceSlice "<node>-gpus": driver gpu.example.com, pool "<node>" (generation
//     1, resourceSliceCount 1), spec.nodeName the node, 8 devices "gpu-0".."gpu-7", device i
//     with attributes model (string "H100"), index (int i), uuid (string "GPU-<1000+i>"), numa
//     (int i/4: gpu-0..3 on NUMA node 0, gpu-4..7 on 1), resource.kubernetes.io/pcieRoot
//     (string "pci0000:1<i%4>") and capacity memory 80Gi; no taints.
//   - DeviceClass "gpu": one selector, device.driver == "gpu.example.com" &&
//     device.attributes["gpu.example.com"].model == "H100".
//   - The pod's claim "default/two-gpus": request "gpus", exactly, class gpu, ExactCount 2;
//     constraint matchAttribute "gpu.example.com/numa" over all requests. It fits every node
//     (gpu-0, gpu-1).
//   - half-taken: every node also has claim "default/held-<node>" allocated gpu-0..gpu-2, so the
//     search backs out of NUMA node 0 (gpu-3 has no partner there) and takes gpu-4, gpu-5.
//
// One op is one scheduling cycle's allocation work: structured.NewAllocator with the feature
// set DynamicResources uses under v1.37's default gates (the "incubating" implementation), then
// Allocate of the claim on every node in node order, as PreFilter and Filter do. The CEL cache
// lives across cycles, as the plugin's does. Sequential (per-core cost); the scheduler runs
// Filter on 16 goroutines. ns/node is the op divided by N.
//
//	go test -run '^$' -bench BenchmarkUpstreamAllocator -count 7 ./pkg/parity
func BenchmarkUpstreamAllocator(b *testing.B) {
	for _, halfTaken := range []bool{false, true} {
		for _, nodes := range []int{10, 100, 1000} {
			name := fmt.Sprintf("free/nodes=%d", nodes)
			if halfTaken {
				name = fmt.Sprintf("half-taken/nodes=%d", nodes)
			}
			b.Run(name, func(b *testing.B) { benchmarkAllocator(b, nodes, halfTaken) })
		}
	}
}

func benchmarkAllocator(b *testing.B, nodes int, halfTaken bool) {
	ctx := context.Background()
	class := &resourceapi.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: resourceapi.DeviceClassSpec{Selectors: []resourceapi.DeviceSelector{
			celSelector(`device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "H100"`)}}}
	state := structured.AllocatedState{AllocatedDevices: sets.New[structured.DeviceID](),
		AllocatedSharedDeviceIDs: sets.New[structured.SharedDeviceID](), AggregatedCapacity: structured.NewConsumedCapacityCollection()}
	var nodeObjs []*v1.Node
	var slices []*resourceapi.ResourceSlice
	for n := range nodes {
		name := fmt.Sprintf("node-%d", n)
		nodeObjs = append(nodeObjs, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
		rs := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: name + "-gpus"}, Spec: resourceapi.ResourceSliceSpec{
			Driver: driverGPU, NodeName: ptr.To(name), Pool: resourceapi.ResourcePool{Name: name, Generation: 1, ResourceSliceCount: 1}}}
		for i := range 8 {
			rs.Spec.Devices = append(rs.Spec.Devices, resourceapi.Device{Name: fmt.Sprintf("gpu-%d", i),
				Attributes: attrs("model", "H100", "index", i, "uuid", fmt.Sprintf("GPU-%d", 1000+i), "numa", i/4,
					"resource.kubernetes.io/pcieRoot", fmt.Sprintf("pci0000:1%d", i%4)),
				Capacity: capacity("memory", "80Gi")})
			if halfTaken && i < 3 { // held by claim default/held-<node> (the assume cache's view)
				state.AllocatedDevices.Insert(structured.MakeDeviceID(driverGPU, name, fmt.Sprintf("gpu-%d", i)))
			}
		}
		slices = append(slices, rs)
	}
	numa := resourceapi.FullyQualifiedName(driverGPU + "/numa")
	claim := &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "two-gpus", UID: "uid-two-gpus"},
		Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{
			Requests:    []resourceapi.DeviceRequest{{Name: "gpus", Exactly: exact("gpu", 2)}},
			Constraints: []resourceapi.DeviceConstraint{{MatchAttribute: &numa}}}}}
	claims := []*resourceapi.ResourceClaim{claim}
	fts := plfeature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
	features := dynamicresources.AllocatorFeatures(fts)
	celCache := cel.NewCache(10, cel.Features{EnableConsumableCapacity: fts.EnableDRAConsumableCapacity, EnableListTypeAttributes: fts.EnableDRAListTypeAttributes})
	lister := classLister{class.Name: class}
	want := "gpu-0"
	if halfTaken {
		want = "gpu-4"
	}
	cycle := func() {
		allocator, err := structured.NewAllocator(ctx, features, state, lister, slices, celCache)
		if err != nil {
			b.Fatal(err)
		}
		for _, node := range nodeObjs {
			result, err := allocator.Allocate(ctx, node, claims)
			if err != nil || len(result) != 1 || len(result[0].Devices.Results) != 2 || result[0].Devices.Results[0].Device != want {
				b.Fatalf("node %s: %v %+v", node.Name, err, result)
			}
		}
	}
	cycle() // the CEL cache is warm in a running scheduler
	b.ResetTimer()
	for b.Loop() {
		cycle()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(nodes), "ns/node")
}

// classLister is structured.DeviceClassLister over a map.
type classLister map[string]*resourceapi.DeviceClass

func (l classLister) Get(name string) (*resourceapi.DeviceClass, error) {
	if c, ok := l[name]; ok {
		return c, nil
	}
	return nil, apierrors.NewNotFound(resourceapi.Resource("deviceclasses"), name)
}

func (l classLister) List() ([]*resourceapi.DeviceClass, error) {
	var out []*resourceapi.DeviceClass
	for _, c := range l {
		out = append(out, c)
	}
	return out, nil
}
