package parity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Dynamic resource allocation in generated snapshots (GenerateOptions.DRA). A second random
// source, seeded from the snapshot's seed, draws everything here after the rest of the snapshot
// is built, so turning DRA on leaves the other objects as they were and the same seed gives
// the same snapshot.
//
// Shapes:
//   - Device classes (a random subset besides gpu.example.com, so some claims name a class that
//     does not exist): by driver, by attribute (model), by capacity (memory), MIG partitions
//     (has(profile)), shared NICs (allowMultipleAllocations), the network fabric, any network
//     device (NIC pools and the fabric pool, whose binding conditions put it last).
//   - Per node 0-2 pools: GPUs of driver gpu.example.com (4 or 8 devices with model, numa,
//     pcieRoot, index, driverVersion attributes and memory capacity) in one slice, or split over
//     two slices (resourceSliceCount 2), sometimes with one slice missing (incomplete pool), a
//     device name in both slices (invalid pool), or a leftover slice of an older generation; a partitionable GPU (a counter slice with
//     shared counters and a device slice whose whole GPU and MIG partitions consume them); shared
//     NICs (allowMultipleAllocations, bandwidth with a valid range, queues with valid values). A
//     few devices are tainted (NoSchedule, NoExecute, None).
//   - A network-attached fabric pool (nodeSelector by zone, allNodes, or perDeviceNodeSelection),
//     some of its devices with binding conditions.
//   - Running pods holding allocated claims (status.allocation with its node selector, the pod in
//     reservedFor, the finalizer), by name or made from a template, some on shared NICs with
//     consumed capacity and a share ID, some on fabric devices with device statuses whose binding
//     conditions are met, pending, failed, or timed out.
//   - Pending pods with claims: ExactCount 1-4, All, matchAttribute (numa, pcieRoot),
//     distinctAttribute, firstAvailable with 2-3 subrequests, adminAccess (in a namespace
//     labelled resource.kubernetes.io/admin-access=true), device tolerations, capacity requests,
//     CEL selectors in the claim (driver, attributes, capacity comparisons; rarely one that fails
//     at run time), claims shared by two pending pods or with a running pod, claims that do not
//     exist, are being deleted, or name a missing class, and template claims
//     (status.resourceClaimStatuses) owned by the pod, by another pod, not created yet, or not
//     needed.

const (
	driverGPU = "gpu.example.com"
	driverNet = "net.example.com"
	// classGPU selects every device of driverGPU; the other classes exist only in some snapshots.
	classGPU       = "gpu.example.com"
	classH100      = "gpu-h100"
	classLarge     = "gpu-large"
	classMIG       = "gpu-mig"
	classNIC       = "nic-shared"
	classFabric    = "fabric"
	classNet       = "net.example.com"
	classMissing   = "gpu-missing" // never created
	adminNamespace = "gpu-admin"
	// adminAccessLabel is the namespace label the API server requires for adminAccess requests.
	adminAccessLabel = "resource.kubernetes.io/admin-access"
)

type draGen struct {
	r    *rand.Rand
	s    *Snapshot
	base time.Time
	// Devices of complete pools on each node, for running pods' allocations: free ones only.
	freeGPUs map[string][]draDevice
	nics     map[string][]draDevice
	migs     map[string][]draDevice // MIG partitions of each node's partitionable GPU
	fabric   []draDevice
	// taken: devices allocated whole so far (driver/pool/device).
	taken map[string]bool
	// waiting: allocated claims on devices with binding conditions; a pending pod shares each
	// (whether it may use it depends on the conditions and the binding timeout).
	waiting []*resourceapi.ResourceClaim
	shares  int
	claims  int // names and UIDs
}

type draDevice struct {
	driver, pool, name string
	numa               int64
	slice              *resourceapi.ResourceSlice
	device             *resourceapi.Device
}

func (d draDevice) id() string { return d.driver + "/" + d.pool + "/" + d.name }

func (d *draGen) chance(pct int) bool      { return d.r.IntN(100) < pct }
func (d *draGen) pick(xs ...string) string { return xs[d.r.IntN(len(xs))] }

// dynamicResources adds the DRA objects and claims to s (built from seed).
func dynamicResources(seed uint64, s *Snapshot, base time.Time) {
	d := &draGen{r: rand.New(rand.NewPCG(seed, 0xd7a0c1a1)), s: s, base: base,
		freeGPUs: map[string][]draDevice{}, nics: map[string][]draDevice{}, migs: map[string][]draDevice{}, taken: map[string]bool{}}
	s.Namespaces = append(s.Namespaces, &v1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: adminNamespace, UID: types.UID("uid-ns-" + adminNamespace),
			Labels: map[string]string{labelNsName: adminNamespace, adminAccessLabel: "true"}},
		Status: v1.NamespaceStatus{Phase: v1.NamespaceActive},
	})
	d.classes()
	for _, n := range s.Nodes {
		d.nodeSlices(n)
	}
	if d.chance(60) {
		d.fabricPool()
	}
	d.runningClaims()
	d.pendingClaims()
}

func celSelector(expr string) resourceapi.DeviceSelector {
	return resourceapi.DeviceSelector{CEL: &resourceapi.CELDeviceSelector{Expression: expr}}
}

func (d *draGen) classes() {
	add := func(name string, exprs ...string) {
		c := &resourceapi.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-class-" + name)}}
		for _, e := range exprs {
			c.Spec.Selectors = append(c.Spec.Selectors, celSelector(e))
		}
		d.s.DeviceClasses = append(d.s.DeviceClasses, c)
	}
	add(classGPU, `device.driver == "gpu.example.com"`)
	if d.chance(75) {
		add(classH100, `device.driver == "gpu.example.com"`, `device.attributes["gpu.example.com"].model == "h100"`)
	}
	if d.chance(60) {
		add(classLarge, `device.driver == "gpu.example.com" && device.capacity["gpu.example.com"].memory.compareTo(quantity("80Gi")) >= 0`)
	}
	if d.chance(70) {
		add(classMIG, `device.driver == "gpu.example.com"`, `has(device.attributes["gpu.example.com"].profile)`)
	}
	if d.chance(70) {
		add(classNIC, `device.driver == "net.example.com" && device.allowMultipleAllocations`)
	}
	if d.chance(70) {
		add(classFabric, `device.driver == "net.example.com" && device.attributes["net.example.com"].type == "fabric"`)
	}
	if d.chance(50) { // both NIC pools and the fabric: pools with binding conditions come last
		add(classNet, `device.driver == "net.example.com"`)
	}
}

func attrs(kv ...any) map[resourceapi.QualifiedName]resourceapi.DeviceAttribute {
	out := map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{}
	for i := 0; i+1 < len(kv); i += 2 {
		name := resourceapi.QualifiedName(kv[i].(string))
		switch v := kv[i+1].(type) {
		case int:
			out[name] = resourceapi.DeviceAttribute{IntValue: ptr.To(int64(v))}
		case int64:
			out[name] = resourceapi.DeviceAttribute{IntValue: ptr.To(v)}
		case bool:
			out[name] = resourceapi.DeviceAttribute{BoolValue: ptr.To(v)}
		case string:
			out[name] = resourceapi.DeviceAttribute{StringValue: ptr.To(v)}
		case semver:
			out[name] = resourceapi.DeviceAttribute{VersionValue: ptr.To(string(v))}
		}
	}
	return out
}

type semver string

func capacity(kv ...string) map[resourceapi.QualifiedName]resourceapi.DeviceCapacity {
	out := map[resourceapi.QualifiedName]resourceapi.DeviceCapacity{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[resourceapi.QualifiedName(kv[i])] = resourceapi.DeviceCapacity{Value: resource.MustParse(kv[i+1])}
	}
	return out
}

func (d *draGen) slice(name, driver, pool string, generation, count int64, node string) *resourceapi.ResourceSlice {
	rs := &resourceapi.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-slice-" + name)},
		Spec: resourceapi.ResourceSliceSpec{Driver: driver,
			Pool: resourceapi.ResourcePool{Name: pool, Generation: generation, ResourceSliceCount: count}},
	}
	if node != "" {
		rs.Spec.NodeName = ptr.To(node)
	}
	d.s.ResourceSlices = append(d.s.ResourceSlices, rs)
	return rs
}

// taint marks a few devices.
func (d *draGen) taint(dev *resourceapi.Device) {
	switch x := d.r.IntN(100); {
	case x < 4:
		dev.Taints = append(dev.Taints, resourceapi.DeviceTaint{Key: "gpu.example.com/ecc-errors", Value: "true",
			Effect: resourceapi.DeviceTaintEffectNoSchedule, TimeAdded: ptr.To(metav1.NewTime(d.base))})
	case x < 6:
		dev.Taints = append(dev.Taints, resourceapi.DeviceTaint{Key: "gpu.example.com/unhealthy",
			Effect: resourceapi.DeviceTaintEffectNoExecute, TimeAdded: ptr.To(metav1.NewTime(d.base))})
	case x < 8:
		dev.Taints = append(dev.Taints, resourceapi.DeviceTaint{Key: "gpu.example.com/maintenance", Value: "planned",
			Effect: resourceapi.DeviceTaintEffectNone, TimeAdded: ptr.To(metav1.NewTime(d.base))})
	}
}

func (d *draGen) gpuDevice(i int, model, memory string) resourceapi.Device {
	dev := resourceapi.Device{
		Name: fmt.Sprintf("gpu-%d", i),
		Attributes: attrs("model", model, "numa", i/4, "pcieRoot", fmt.Sprintf("pci0000:%02x", i/2), "index", i,
			"driverVersion", semver(d.pick("535.104.5", "550.54.15", "560.28.3")), "type", "gpu"),
		Capacity: capacity("memory", memory),
	}
	d.taint(&dev)
	return dev
}

// nodeSlices gives a node 0-2 pools.
func (d *draGen) nodeSlices(n *v1.Node) {
	gpuNode := n.Labels["node.kubernetes.io/instance-type"] == "gpu"
	if (gpuNode && d.chance(85)) || (!gpuNode && d.chance(20)) {
		d.gpuPool(n.Name)
	}
	if d.chance(15) {
		d.partitionablePool(n.Name)
	}
	if d.chance(gpuNodePct(gpuNode, 35, 10)) {
		d.nicPool(n.Name)
	}
}

func gpuNodePct(gpu bool, yes, no int) int {
	if gpu {
		return yes
	}
	return no
}

func (d *draGen) gpuPool(node string) {
	model := d.pick("h100", "a100", "a100", "l4")
	memory := map[string]string{"h100": "80Gi", "a100": d.pick("40Gi", "80Gi"), "l4": "24Gi"}[model]
	n := 8
	if d.chance(20) {
		n = 4
	}
	devices := make([]resourceapi.Device, n)
	for i := range devices {
		devices[i] = d.gpuDevice(i, model, memory)
	}
	pool := node
	complete := true
	switch x := d.r.IntN(100); {
	case x < 55: // one slice
		rs := d.slice(node+"-gpu", driverGPU, pool, 1, 1, node)
		rs.Spec.Devices = devices
	case x < 75: // split over two slices
		a := d.slice(node+"-gpu-a", driverGPU, pool, 1, 2, node)
		b := d.slice(node+"-gpu-b", driverGPU, pool, 1, 2, node)
		a.Spec.Devices, b.Spec.Devices = devices[:n/2], devices[n/2:]
	case x < 85: // split, one slice not published yet: incomplete
		a := d.slice(node+"-gpu-a", driverGPU, pool, 3, 2, node)
		a.Spec.Devices = devices[:n/2]
		complete = false
	case x < 89: // split, both slices name the same devices: an invalid pool
		a := d.slice(node+"-gpu-a", driverGPU, pool, 1, 2, node)
		b := d.slice(node+"-gpu-b", driverGPU, pool, 1, 2, node)
		a.Spec.Devices, b.Spec.Devices = devices[:n/2], slices.Clone(devices[:n/2])
		complete = false
	default: // republished with a new generation; the old slice is still there
		old := d.slice(node+"-gpu-old", driverGPU, pool, 1, 1, node)
		old.Spec.Devices = slices.Clone(devices[:n/2])
		rs := d.slice(node+"-gpu", driverGPU, pool, 2, 1, node)
		rs.Spec.Devices = devices
	}
	if !complete {
		return
	}
	for _, rs := range d.s.ResourceSlices {
		if rs.Spec.Pool.Name != pool || rs.Spec.Driver != driverGPU || rs.Spec.Pool.Generation == 1 && rs.Name == node+"-gpu-old" {
			continue
		}
		for i := range rs.Spec.Devices {
			dev := &rs.Spec.Devices[i]
			d.freeGPUs[node] = append(d.freeGPUs[node], draDevice{driver: driverGPU, pool: pool, name: dev.Name,
				numa: *dev.Attributes["numa"].IntValue, slice: rs, device: dev})
		}
	}
}

// partitionablePool is one GPU shared between the whole device and its MIG partitions: a
// counter slice and a device slice of one pool.
func (d *draGen) partitionablePool(node string) {
	pool := node + "-mig"
	counters := d.slice(node+"-mig-counters", driverGPU, pool, 1, 2, node)
	counters.Spec.SharedCounters = []resourceapi.CounterSet{{Name: "gpu-0", Counters: map[string]resourceapi.Counter{
		"memory": {Value: resource.MustParse("80Gi")}, "slices": {Value: resource.MustParse("7")}}}}
	devs := d.slice(node+"-mig-devices", driverGPU, pool, 1, 2, node)
	consumes := func(memory, sl string) []resourceapi.DeviceCounterConsumption {
		return []resourceapi.DeviceCounterConsumption{{CounterSet: "gpu-0", Counters: map[string]resourceapi.Counter{
			"memory": {Value: resource.MustParse(memory)}, "slices": {Value: resource.MustParse(sl)}}}}
	}
	version := semver(d.pick("535.104.5", "550.54.15"))
	whole := resourceapi.Device{Name: "gpu-0", Attributes: attrs("model", "h100", "numa", 0, "pcieRoot", "pci0000:00", "index", 0, "driverVersion", version, "type", "gpu"),
		Capacity: capacity("memory", "80Gi"), ConsumesCounters: consumes("80Gi", "7")}
	devs.Spec.Devices = append(devs.Spec.Devices, whole)
	for i := range 4 {
		devs.Spec.Devices = append(devs.Spec.Devices, resourceapi.Device{Name: fmt.Sprintf("gpu-0-1g-%d", i),
			Attributes: attrs("model", "h100", "numa", 0, "pcieRoot", "pci0000:00", "index", 0, "driverVersion", version, "type", "mig", "profile", "1g.10gb"),
			Capacity:   capacity("memory", "10Gi"), ConsumesCounters: consumes("10Gi", "1")})
	}
	for i := range 2 {
		dev := resourceapi.Device{Name: fmt.Sprintf("gpu-0-3g-%d", i),
			Attributes: attrs("model", "h100", "numa", 0, "pcieRoot", "pci0000:00", "index", 0, "driverVersion", version, "type", "mig", "profile", "3g.40gb"),
			Capacity:   capacity("memory", "40Gi"), ConsumesCounters: consumes("40Gi", "3")}
		d.taint(&dev)
		devs.Spec.Devices = append(devs.Spec.Devices, dev)
	}
	for i := 1; i < len(devs.Spec.Devices); i++ {
		dev := &devs.Spec.Devices[i]
		d.migs[node] = append(d.migs[node], draDevice{driver: driverGPU, pool: pool, name: dev.Name, slice: devs, device: dev})
	}
}

// nicPool: two NICs that many claims share, with consumable bandwidth and queues.
func (d *draGen) nicPool(node string) {
	rs := d.slice(node+"-nic", driverNet, node+"-nic", 1, 1, node)
	for i := range 2 {
		rs.Spec.Devices = append(rs.Spec.Devices, resourceapi.Device{
			Name:                     fmt.Sprintf("nic-%d", i),
			AllowMultipleAllocations: ptr.To(true),
			Attributes:               attrs("numa", i, "pcieRoot", fmt.Sprintf("pci0000:%02x", 2*i), "type", "nic", "linkSpeedGbps", 100),
			Capacity: map[resourceapi.QualifiedName]resourceapi.DeviceCapacity{
				"bandwidth": {Value: resource.MustParse("100G"), RequestPolicy: &resourceapi.CapacityRequestPolicy{
					Default: ptr.To(resource.MustParse("10G")),
					ValidRange: &resourceapi.CapacityRequestPolicyRange{Min: ptr.To(resource.MustParse("1G")),
						Max: ptr.To(resource.MustParse("100G")), Step: ptr.To(resource.MustParse("1G"))}}},
				"queues": {Value: resource.MustParse("16"), RequestPolicy: &resourceapi.CapacityRequestPolicy{
					Default:     ptr.To(resource.MustParse("1")),
					ValidValues: []resource.Quantity{resource.MustParse("1"), resource.MustParse("2"), resource.MustParse("4"), resource.MustParse("8")}}},
			},
		})
		dev := &rs.Spec.Devices[i]
		d.nics[node] = append(d.nics[node], draDevice{driver: driverNet, pool: node + "-nic", name: dev.Name, numa: int64(i), slice: rs, device: dev})
	}
}

// fabricPool: network-attached devices reachable from a zone, from every node, or per device.
func (d *draGen) fabricPool() {
	rs := d.slice("fabric", driverNet, "fabric", 1, 1, "")
	zoneSel := func(zs ...string) *v1.NodeSelector {
		return &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{
			{Key: "topology.kubernetes.io/zone", Operator: v1.NodeSelectorOpIn, Values: zs}}}}}
	}
	mode := d.r.IntN(10)
	switch {
	case mode < 4:
		rs.Spec.NodeSelector = zoneSel("zone-a", "zone-b")
	case mode < 7:
		rs.Spec.AllNodes = ptr.To(true)
	default:
		rs.Spec.PerDeviceNodeSelection = ptr.To(true)
	}
	for i := range 6 {
		dev := resourceapi.Device{Name: fmt.Sprintf("fabric-%d", i),
			Attributes: attrs("type", "fabric", "zone", zones[i%len(zones)], "generation", 2+i%2)}
		if mode >= 7 {
			switch i % 3 {
			case 0:
				dev.NodeSelector = zoneSel(zones[i%len(zones)])
			case 1:
				dev.AllNodes = ptr.To(true)
			default:
				dev.NodeName = ptr.To(d.s.Nodes[d.r.IntN(len(d.s.Nodes))].Name)
			}
		}
		if d.chance(40) {
			dev.BindingConditions = []string{"attached"}
			dev.BindingFailureConditions = []string{"attach-failed"}
			if d.chance(50) {
				dev.BindsToNode = ptr.To(true)
			}
		}
		rs.Spec.Devices = append(rs.Spec.Devices, dev)
	}
	for i := range rs.Spec.Devices {
		d.fabric = append(d.fabric, draDevice{driver: driverNet, pool: "fabric", name: rs.Spec.Devices[i].Name, slice: rs, device: &rs.Spec.Devices[i]})
	}
}

func (d *draGen) newClaim(namespace, name string) *resourceapi.ResourceClaim {
	d.claims++
	return &resourceapi.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name,
		UID: types.UID(fmt.Sprintf("uid-claim-%d", d.claims)), ResourceVersion: "1",
		CreationTimestamp: metav1.NewTime(d.base)}}
}

// attach adds claim to pod under entry name: by name, or (template) as the resourceclaim
// controller leaves a claim made for the pod (owned by it, listed in its status).
func (d *draGen) attach(pod *v1.Pod, entry string, claim *resourceapi.ResourceClaim, template bool) {
	pc := v1.PodResourceClaim{Name: entry}
	if template {
		pc.ResourceClaimTemplateName = ptr.To(entry + "-template")
		claim.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
		claim.Annotations = map[string]string{"resource.kubernetes.io/pod-claim-name": entry}
		pod.Status.ResourceClaimStatuses = append(pod.Status.ResourceClaimStatuses, v1.PodResourceClaimStatus{Name: entry, ResourceClaimName: ptr.To(claim.Name)})
	} else {
		pc.ResourceClaimName = ptr.To(claim.Name)
	}
	pod.Spec.ResourceClaims = append(pod.Spec.ResourceClaims, pc)
}

func exact(class string, count int64) *resourceapi.ExactDeviceRequest {
	return &resourceapi.ExactDeviceRequest{DeviceClassName: class, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: count}
}

func nodeNameSelector(node string) *v1.NodeSelector {
	return &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{
		{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{node}}}}}}
}

func (d *draGen) shareID() *types.UID {
	d.shares++
	return ptr.To(types.UID(fmt.Sprintf("5ba7e000-0000-4000-8000-%012d", d.shares)))
}

// allocated fills in the status of a claim allocated to pod with results.
func (d *draGen) allocated(claim *resourceapi.ResourceClaim, pod *v1.Pod, sel *v1.NodeSelector, results ...resourceapi.DeviceRequestAllocationResult) {
	claim.Finalizers = []string{resourceapi.Finalizer}
	claim.Status.Allocation = &resourceapi.AllocationResult{Devices: resourceapi.DeviceAllocationResult{Results: results},
		NodeSelector: sel, AllocationTimestamp: ptr.To(metav1.NewTime(d.base))}
	claim.Status.ReservedFor = []resourceapi.ResourceClaimConsumerReference{{Resource: "pods", Name: pod.Name, UID: pod.UID}}
}

// runningClaims gives running pods on nodes with devices allocated claims, and returns the
// claims a pending pod may share.
func (d *draGen) runningClaims() {
	for _, p := range d.s.Pods {
		if p.Spec.NodeName == "" || p.Status.Phase != v1.PodRunning {
			continue
		}
		node := p.Spec.NodeName
		if free := d.freeGPUs[node]; len(free) > 0 && d.chance(35) {
			n := min(len(free), 1+d.r.IntN(2))
			claim := d.newClaim(p.Namespace, p.Name+"-gpu")
			claim.Spec.Devices.Requests = []resourceapi.DeviceRequest{{Name: "gpu", Exactly: exact(classGPU, int64(n))}}
			var results []resourceapi.DeviceRequestAllocationResult
			for _, dev := range free[:n] {
				results = append(results, resourceapi.DeviceRequestAllocationResult{Request: "gpu", Driver: dev.driver, Pool: dev.pool, Device: dev.name})
				d.taken[dev.id()] = true
			}
			d.freeGPUs[node] = free[n:]
			d.allocated(claim, p, nodeNameSelector(node), results...)
			d.attach(p, "gpu", claim, d.chance(30))
			d.s.ResourceClaims = append(d.s.ResourceClaims, claim)
		}
		if migs := d.migs[node]; len(migs) > 0 && d.chance(40) {
			// Partitions in use: their counters are consumed, so the whole GPU and some other
			// partitions no longer fit.
			dev := migs[d.r.IntN(len(migs))]
			if !d.taken[dev.id()] {
				d.taken[dev.id()] = true
				claim := d.newClaim(p.Namespace, p.Name+"-mig")
				claim.Spec.Devices.Requests = []resourceapi.DeviceRequest{{Name: "mig", Exactly: exact(classMIG, 1)}}
				d.allocated(claim, p, nodeNameSelector(node), resourceapi.DeviceRequestAllocationResult{Request: "mig", Driver: dev.driver, Pool: dev.pool, Device: dev.name})
				d.attach(p, "mig", claim, d.chance(30))
				d.s.ResourceClaims = append(d.s.ResourceClaims, claim)
			}
		}
		if nics := d.nics[node]; len(nics) > 0 && d.chance(30) {
			dev := nics[d.r.IntN(len(nics))]
			bw := d.pick("10G", "25G", "40G")
			claim := d.newClaim(p.Namespace, p.Name+"-nic")
			req := exact(classNIC, 1)
			req.Capacity = &resourceapi.CapacityRequirements{Requests: map[resourceapi.QualifiedName]resource.Quantity{"bandwidth": resource.MustParse(bw)}}
			claim.Spec.Devices.Requests = []resourceapi.DeviceRequest{{Name: "nic", Exactly: req}}
			d.allocated(claim, p, nodeNameSelector(node), resourceapi.DeviceRequestAllocationResult{Request: "nic", Driver: dev.driver, Pool: dev.pool, Device: dev.name,
				ShareID: d.shareID(), ConsumedCapacity: map[resourceapi.QualifiedName]resource.Quantity{
					"bandwidth": resource.MustParse(bw), "queues": resource.MustParse("1")}})
			d.attach(p, "nic", claim, false)
			d.s.ResourceClaims = append(d.s.ResourceClaims, claim)
		}
	}
	// One or two running pods on fabric devices, some still waiting for their binding
	// conditions, which decides whether a pending pod sharing the claim may use it.
	for k := 0; k < 2 && len(d.fabric) > 0; k++ {
		var p *v1.Pod
		for tries := 0; tries < 20 && p == nil; tries++ {
			q := d.s.Pods[d.r.IntN(len(d.s.Pods))]
			if q.Spec.NodeName != "" && q.Status.Phase == v1.PodRunning && len(q.Spec.ResourceClaims) == 0 {
				p = q
			}
		}
		dev := d.fabric[d.r.IntN(len(d.fabric))]
		if p == nil || d.taken[dev.id()] || !d.chance(70) {
			continue
		}
		var node *v1.Node
		for _, n := range d.s.Nodes {
			if n.Name == p.Spec.NodeName {
				node = n
			}
		}
		if node == nil || !deviceReaches(dev, node) {
			continue
		}
		d.taken[dev.id()] = true
		claim := d.newClaim(p.Namespace, p.Name+"-fabric")
		claim.Spec.Devices.Requests = []resourceapi.DeviceRequest{{Name: "link", Exactly: exact(classFabric, 1)}}
		res := resourceapi.DeviceRequestAllocationResult{Request: "link", Driver: dev.driver, Pool: dev.pool, Device: dev.name,
			BindingConditions: dev.device.BindingConditions, BindingFailureConditions: dev.device.BindingFailureConditions}
		var sel *v1.NodeSelector
		switch {
		case ptr.Deref(dev.device.BindsToNode, false) || dev.device.NodeName != nil:
			sel = nodeNameSelector(node.Name)
		case dev.slice.Spec.NodeSelector != nil:
			sel = dev.slice.Spec.NodeSelector.DeepCopy()
		case dev.device.NodeSelector != nil:
			sel = dev.device.NodeSelector.DeepCopy()
		}
		d.allocated(claim, p, sel, res)
		if len(res.BindingConditions) > 0 {
			status := resourceapi.AllocatedDeviceStatus{Driver: dev.driver, Pool: dev.pool, Device: dev.name}
			switch d.r.IntN(4) {
			case 0: // attached
				status.Conditions = []metav1.Condition{{Type: "attached", Status: metav1.ConditionTrue, Reason: "Attached", LastTransitionTime: metav1.NewTime(d.base)}}
			case 1: // failed
				status.Conditions = []metav1.Condition{{Type: "attach-failed", Status: metav1.ConditionTrue, Reason: "Failed", LastTransitionTime: metav1.NewTime(d.base)}}
			case 2: // still attaching, allocated long ago: timed out
			default: // still attaching, allocated "now" (far in the future of the generator's clock)
				claim.Status.Allocation.AllocationTimestamp = ptr.To(metav1.NewTime(d.base.AddDate(100, 0, 0)))
			}
			claim.Status.Devices = []resourceapi.AllocatedDeviceStatus{status}
		}
		d.attach(p, "link", claim, false)
		d.s.ResourceClaims = append(d.s.ResourceClaims, claim)
		if len(res.BindingConditions) > 0 {
			d.waiting = append(d.waiting, claim)
		}
	}
}

// deviceReaches reports whether a fabric device is reachable from node.
func deviceReaches(dev draDevice, node *v1.Node) bool {
	match := func(sel *v1.NodeSelector) bool {
		for _, t := range sel.NodeSelectorTerms {
			ok := true
			for _, r := range t.MatchExpressions {
				ok = ok && slices.Contains(r.Values, node.Labels[r.Key])
			}
			if ok {
				return true
			}
		}
		return false
	}
	spec := dev.slice.Spec
	switch {
	case ptr.Deref(spec.AllNodes, false):
		return true
	case spec.NodeSelector != nil:
		return match(spec.NodeSelector)
	case ptr.Deref(dev.device.AllNodes, false):
		return true
	case dev.device.NodeSelector != nil:
		return match(dev.device.NodeSelector)
	case dev.device.NodeName != nil:
		return *dev.device.NodeName == node.Name
	}
	return false
}

// gpuSelector is a CEL selector a claim adds to its GPU request.
func (d *draGen) gpuSelector() string {
	return d.pick(
		`device.attributes["gpu.example.com"].model in ["h100", "a100"]`,
		`device.capacity["gpu.example.com"].memory.compareTo(quantity("40Gi")) >= 0`,
		`device.attributes["gpu.example.com"].numa == 0`,
		`device.attributes["gpu.example.com"].driverVersion.isGreaterThan(semver("540.0.0"))`,
		`has(device.attributes["gpu.example.com"].model) && device.attributes["gpu.example.com"].model != "l4"`,
		`device.attributes["gpu.example.com"].index % 2 == 0`,
	)
}

// pendingClaims gives claims to some pending pods and adds pods that use DRA only.
func (d *draGen) pendingClaims() {
	var pending []*v1.Pod
	for _, p := range d.s.Pods {
		if p.Spec.NodeName == "" && p.Status.Phase == v1.PodPending {
			pending = append(pending, p)
		}
	}
	// New pods, small in cpu, tolerating the GPU taint: their placement is decided by devices.
	for i := range 3 + d.r.IntN(5) {
		ns := "prod"
		if len(pending) > 0 {
			ns = pending[d.r.IntN(len(pending))].Namespace
		}
		if d.chance(25) {
			ns = adminNamespace
		}
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("dra-%d", i), UID: types.UID(fmt.Sprintf("uid-dra-%d", i)),
				Labels: map[string]string{"app": "trainer"}, CreationTimestamp: metav1.NewTime(d.base.Add(time.Hour))},
			Spec: v1.PodSpec{SchedulerName: "sextant", Containers: []v1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("128Mi")}}}},
				Tolerations: []v1.Toleration{{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule}}},
			Status: v1.PodStatus{Phase: v1.PodPending},
		}
		d.s.Pods = append(d.s.Pods, p)
		pending = append(pending, p)
	}
	for k, c := range d.waiting {
		for _, p := range pending {
			if p.Namespace == c.Namespace && d.chance(50) {
				p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, v1.PodResourceClaim{Name: fmt.Sprintf("link-%d", k), ResourceClaimName: ptr.To(c.Name)})
				break
			}
		}
	}
	var shared []*resourceapi.ResourceClaim // claims one more pending pod may use
	for _, c := range d.s.ResourceClaims {
		if c.Status.Allocation != nil && d.chance(15) {
			shared = append(shared, c)
		}
	}
	for _, p := range pending {
		if p.Labels["app"] != "trainer" && !d.chance(35) {
			continue
		}
		if !slices.ContainsFunc(p.Spec.Tolerations, func(t v1.Toleration) bool { return t.Key == "nvidia.com/gpu" }) && d.chance(70) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, v1.Toleration{Key: "nvidia.com/gpu", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoSchedule})
		}
		for k := 0; k < 1+d.r.IntN(2); k++ {
			entry := fmt.Sprintf("c%d", k)
			switch x := d.r.IntN(100); {
			case x < 4: // no such claim
				p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, v1.PodResourceClaim{Name: entry, ResourceClaimName: ptr.To("missing-claim")})
			case x < 10 && slices.ContainsFunc(shared, func(c *resourceapi.ResourceClaim) bool { return c.Namespace == p.Namespace }):
				// Share a claim another pod holds (allocated, or allocated once that pod is bound).
				var mine []*resourceapi.ResourceClaim
				for _, c := range shared {
					if c.Namespace == p.Namespace {
						mine = append(mine, c)
					}
				}
				c := mine[d.r.IntN(len(mine))]
				p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, v1.PodResourceClaim{Name: entry, ResourceClaimName: ptr.To(c.Name)})
			case x < 13: // template entries that need no claim, or whose claim is not made yet
				pc := v1.PodResourceClaim{Name: entry, ResourceClaimTemplateName: ptr.To("gpu-template")}
				p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, pc)
				if d.chance(60) {
					p.Status.ResourceClaimStatuses = append(p.Status.ResourceClaimStatuses, v1.PodResourceClaimStatus{Name: entry})
				}
			default:
				claim := d.newClaim(p.Namespace, fmt.Sprintf("%s-%s-%d", p.Name, entry, d.claims))
				d.claimSpec(claim, p.Namespace == adminNamespace)
				if d.chance(3) {
					claim.DeletionTimestamp = ptr.To(metav1.NewTime(d.base.Add(2 * time.Hour)))
					claim.Finalizers = []string{"example.com/keep"}
				}
				template := d.chance(25)
				d.attach(p, entry, claim, template)
				if template && d.chance(8) { // made for another pod
					claim.OwnerReferences[0].UID = "uid-someone-else"
				}
				d.s.ResourceClaims = append(d.s.ResourceClaims, claim)
				if !template && d.chance(15) {
					shared = append(shared, claim) // a later pod uses it too
				}
			}
		}
	}
}

// claimSpec fills in a claim's requests and constraints.
func (d *draGen) claimSpec(claim *resourceapi.ResourceClaim, admin bool) {
	dev := &claim.Spec.Devices
	gpuClass := func() string {
		switch x := d.r.IntN(100); {
		case x < 4:
			return classMissing
		case x < 20:
			return classH100
		case x < 30:
			return classLarge
		}
		return classGPU
	}
	addSelector := func(r *resourceapi.ExactDeviceRequest) {
		if d.chance(35) {
			r.Selectors = append(r.Selectors, celSelector(d.gpuSelector()))
		}
		if d.chance(2) { // reads an attribute whole GPUs lack: a CEL runtime error
			r.Selectors = append(r.Selectors, celSelector(`device.attributes["gpu.example.com"].profile == "1g.10gb"`))
		}
	}
	tolerate := func(r *resourceapi.ExactDeviceRequest) {
		if d.chance(25) {
			r.Tolerations = append(r.Tolerations, resourceapi.DeviceToleration{Key: "gpu.example.com/ecc-errors",
				Operator: resourceapi.DeviceTolerationOpExists, Effect: resourceapi.DeviceTaintEffectNoSchedule})
		}
		if d.chance(10) {
			r.Tolerations = append(r.Tolerations, resourceapi.DeviceToleration{Key: "gpu.example.com/unhealthy",
				Operator: resourceapi.DeviceTolerationOpEqual, Value: "", Effect: resourceapi.DeviceTaintEffectNoExecute, TolerationSeconds: ptr.To[int64](60)})
		}
	}
	switch x := d.r.IntN(100); {
	case admin && x < 50: // a monitoring agent sees devices others use
		r := exact(classGPU, 1)
		r.AdminAccess = ptr.To(true)
		if d.chance(40) {
			r.AllocationMode, r.Count = resourceapi.DeviceAllocationModeAll, 0
		}
		dev.Requests = []resourceapi.DeviceRequest{{Name: "monitor", Exactly: r}}
	case x < 30: // ExactCount 1-4
		r := exact(gpuClass(), int64(1+d.r.IntN(4)))
		addSelector(r)
		tolerate(r)
		dev.Requests = []resourceapi.DeviceRequest{{Name: "gpu", Exactly: r}}
	case x < 38: // All
		r := exact(classGPU, 0)
		r.AllocationMode = resourceapi.DeviceAllocationModeAll
		r.Selectors = []resourceapi.DeviceSelector{celSelector(d.pick(`device.attributes["gpu.example.com"].numa == 1`, `device.attributes["gpu.example.com"].type == "gpu"`, `device.attributes["gpu.example.com"].model == "l4"`))}
		tolerate(r)
		dev.Requests = []resourceapi.DeviceRequest{{Name: "gpus", Exactly: r}}
	case x < 52: // matchAttribute
		attr := resourceapi.FullyQualifiedName(driverGPU + "/" + d.pick("numa", "numa", "pcieRoot"))
		if d.chance(50) {
			r := exact(gpuClass(), int64(2+d.r.IntN(2)))
			addSelector(r)
			tolerate(r)
			dev.Requests = []resourceapi.DeviceRequest{{Name: "gpu", Exactly: r}}
			dev.Constraints = []resourceapi.DeviceConstraint{{MatchAttribute: &attr}}
		} else {
			a, b := exact(classGPU, 1), exact(gpuClass(), 1)
			tolerate(a)
			dev.Requests = []resourceapi.DeviceRequest{{Name: "a", Exactly: a}, {Name: "b", Exactly: b}}
			dev.Constraints = []resourceapi.DeviceConstraint{{Requests: []string{"a", "b"}, MatchAttribute: &attr}}
			if d.chance(20) {
				// A NIC "on the GPU's NUMA node", by the NIC driver's attribute, which GPUs lack:
				// a common mistake that no node satisfies.
				nic := exact(classNIC, 1)
				dev.Requests = append(dev.Requests, resourceapi.DeviceRequest{Name: "nic", Exactly: nic})
				numa := resourceapi.FullyQualifiedName(driverNet + "/numa")
				dev.Constraints = append(dev.Constraints, resourceapi.DeviceConstraint{Requests: []string{"a", "nic"}, MatchAttribute: &numa})
			}
		}
	case x < 60: // distinctAttribute
		attr := resourceapi.FullyQualifiedName(driverGPU + "/" + d.pick("pcieRoot", "numa", "index"))
		r := exact(gpuClass(), int64(2+d.r.IntN(2)))
		tolerate(r)
		dev.Requests = []resourceapi.DeviceRequest{{Name: "gpu", Exactly: r}}
		dev.Constraints = []resourceapi.DeviceConstraint{{DistinctAttribute: &attr}}
	case x < 74: // firstAvailable
		subs := []resourceapi.DeviceSubRequest{
			{Name: "h100x2", DeviceClassName: classH100, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 2},
			{Name: "large", DeviceClassName: classLarge, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 1},
			{Name: "mig", DeviceClassName: classMIG, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: int64(1 + d.r.IntN(2))},
			{Name: "any", DeviceClassName: classGPU, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 1,
				Selectors: []resourceapi.DeviceSelector{celSelector(`device.attributes["gpu.example.com"].type == "gpu"`)}},
		}
		d.r.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
		subs = subs[:2+d.r.IntN(2)]
		if d.chance(30) {
			subs[len(subs)-1].Tolerations = []resourceapi.DeviceToleration{{Key: "gpu.example.com/ecc-errors", Operator: resourceapi.DeviceTolerationOpExists}}
		}
		dev.Requests = []resourceapi.DeviceRequest{{Name: "gpu", FirstAvailable: subs}}
		if d.chance(30) {
			attr := resourceapi.FullyQualifiedName(driverGPU + "/numa")
			dev.Requests = append(dev.Requests, resourceapi.DeviceRequest{Name: "extra", Exactly: exact(classGPU, 1)})
			dev.Constraints = []resourceapi.DeviceConstraint{{Requests: []string{"gpu", "extra"}, MatchAttribute: &attr}}
		}
	case x < 82: // MIG partitions (shared counters)
		r := exact(d.pick(classMIG, classMIG, classGPU), int64(1+d.r.IntN(3)))
		if d.chance(50) {
			r.Selectors = []resourceapi.DeviceSelector{celSelector(d.pick(
				`has(device.attributes["gpu.example.com"].profile) && device.attributes["gpu.example.com"].profile == "3g.40gb"`,
				`device.capacity["gpu.example.com"].memory.compareTo(quantity("10Gi")) == 0`))}
		}
		tolerate(r)
		dev.Requests = []resourceapi.DeviceRequest{{Name: "mig", Exactly: r}}
	case x < 92: // shared NICs with capacity
		r := exact(classNIC, 1)
		if d.chance(75) {
			r.Capacity = &resourceapi.CapacityRequirements{Requests: map[resourceapi.QualifiedName]resource.Quantity{
				"bandwidth": resource.MustParse(d.pick("5G", "20G", "50G", "90G", "1500M"))}}
			if d.chance(40) {
				r.Capacity.Requests["queues"] = resource.MustParse(d.pick("2", "3", "8"))
			}
		}
		if d.chance(30) {
			r.Count = 2
		}
		dev.Requests = []resourceapi.DeviceRequest{{Name: "nic", Exactly: r}}
		if d.chance(25) {
			attr := resourceapi.FullyQualifiedName(driverNet + "/numa")
			dev.Constraints = []resourceapi.DeviceConstraint{{DistinctAttribute: &attr}}
			r.Count = 2
		}
	default: // the network fabric, or any network device
		r := exact(d.pick(classFabric, classFabric, classNet, classMissing), 1)
		if d.chance(40) {
			r.Selectors = []resourceapi.DeviceSelector{celSelector(`device.attributes["net.example.com"].generation >= 3`)}
		}
		dev.Requests = []resourceapi.DeviceRequest{{Name: "link", Exactly: r}}
	}
}
