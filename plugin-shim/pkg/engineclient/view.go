package engineclient

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// The consistency guard: a scheduling cycle must never evaluate an engine state older than the
// scheduler's cache (the cycle's snapshot). The scheduler's cache and the Sync loop are two
// listeners of the same shared informers and each runs at its own pace, so after any event the
// engine can lag the snapshot (a victim deleted in the cache but not yet in the engine), and a
// cycle evaluated then decides on a state the scheduler has already moved past.
//
// The shim keeps a fingerprint of what the engine has acknowledged, per node: the node (a hash
// of what Sync sent for it) and the pods on it, bound (sent by Sync) or assumed (Assume), as a
// count and a sum of UID hashes. The plugin computes the same fingerprint of the snapshot
// (SnapshotView; per node only when the node's NodeInfo generation changed), and AwaitView
// compares the totals (O(1)). When they differ, a node where they differ is accepted only if the
// shim has caught up with the informer's store for it (the store is updated before any listener
// is told, so the shim is then at least as new as the scheduler's cache for that node: the cache
// is behind, or the engine is newer); otherwise AwaitView waits, bounded, for the Sync loop to
// send and the engine to acknowledge what is missing.

// ErrBehind: the engine has not caught up with the scheduler's cache within the bound.
var ErrBehind = errors.New("Sextant engine is behind the scheduler's cache")

// ViewWaiter is implemented by clients that track what the engine has acknowledged; the plugin
// calls AwaitView before Evaluate and Preempt.
type ViewWaiter interface {
	// AwaitView returns nil once the engine reflects at least the scheduler's snapshot view. It
	// waits at most timeout, also for the Sync stream to (re)connect and its snapshot to be
	// acknowledged (at start, after an engine restart): when the client is still not synced at
	// the deadline it returns nil and the call that follows fails closed. When synced but behind
	// at the deadline it returns an error wrapping ErrBehind that names the nodes behind.
	AwaitView(ctx context.Context, view CacheView, timeout time.Duration) error
}

var _ ViewWaiter = &GRPCClient{}

var viewSeed = maphash.MakeSeed()

// NodeState is one node's fingerprint: the node's content hash and its pods' count and UID hash sum.
type NodeState struct {
	Hash   uint64
	Pods   int
	PodSum uint64
}

// Fingerprint mixes the node's state into one value; the view's total is their wrapping sum.
func (s NodeState) Fingerprint() uint64 {
	return mix64(s.Hash ^ mix64(s.PodSum+uint64(s.Pods)*0x9e3779b97f4a7c15))
}

func mix64(x uint64) uint64 { // splitmix64's finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NodeHash hashes what Sync sends for a node (its deterministic proto encoding), so updates the
// engine never sees (heartbeats) do not change it.
func NodeHash(n *v1.Node) uint64 { return nodeProtoHash(NodeToProto(n)) }

func nodeProtoHash(n *sextantv1.Node) uint64 {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(n)
	if err != nil {
		return 0
	}
	return mix64(maphash.Bytes(viewSeed, b) | 1) // never 0: 0 is "no node"
}

// PodHash hashes a pod's UID.
func PodHash(uid types.UID) uint64 { return mix64(maphash.String(viewSeed, string(uid))) }

// CacheView is the scheduler's snapshot as AwaitView compares it.
type CacheView struct {
	Nodes int
	Sum   uint64
	// Each calls f for every node of the snapshot; AwaitView calls it only when the totals differ.
	Each func(f func(name string, s NodeState))
	// Has reports whether the snapshot has a node of that name.
	Has func(name string) bool
}

// SnapshotView computes CacheViews of the scheduler's snapshots, keeping each node's state
// until its NodeInfo generation changes. The scheduler's snapshot keeps one NodeInfo per node
// for as long as the node exists and lists them in the same order from cycle to cycle (the list
// is rebuilt only when nodes come or go), so a cycle whose list holds the same NodeInfos at the
// same positions as the last one costs a comparison and a generation read per node, and hashing
// only for nodes that changed; any other list is looked up node by node by name. Safe for
// concurrent use.
type SnapshotView struct {
	mu     sync.Mutex
	byNode map[string]cachedNode
	// The last list View saw, by position; index maps the names in it to their positions. A list
	// that differs in length, identity or which NodeInfos have a node replaces both (the same list
	// only updates generations and fingerprints in place), so a CacheView's Has keeps reading the
	// list it was made from.
	last  []lastNode
	index map[string]int
}

type cachedNode struct {
	generation int64
	state      NodeState
	fp         uint64
}

type lastNode struct {
	info       fwk.NodeInfo
	generation int64
	fp         uint64 // 0 for a NodeInfo without a node
	present    bool   // the NodeInfo has a node
}

// View returns the CacheView of the snapshot nodes (what PreFilter receives, or
// SnapshotSharedLister().NodeInfos().List()).
func (sv *SnapshotView) View(nodes []fwk.NodeInfo) CacheView {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.byNode == nil {
		sv.byNode = make(map[string]cachedNode, len(nodes))
	}
	sum, count, ok := sv.sameList(nodes)
	if !ok {
		sum, count = sv.lookUp(nodes)
	}
	last, index := sv.last, sv.index
	// Each reads the NodeInfos again (the cycle's snapshot does not change during the cycle).
	return CacheView{Nodes: count, Sum: sum,
		Each: func(f func(string, NodeState)) {
			for _, ni := range nodes {
				if n := ni.Node(); n != nil {
					f(n.Name, sv.state(ni))
				}
			}
		},
		Has: func(name string) bool {
			i, ok := index[name]
			return ok && last[i].present
		}}
}

// sameList totals nodes when it holds the NodeInfos of the last list at the same positions,
// refreshing those whose generation changed; ok is false for any other list.
func (sv *SnapshotView) sameList(nodes []fwk.NodeInfo) (sum uint64, count int, ok bool) {
	if len(nodes) != len(sv.last) || len(nodes) == 0 {
		return 0, 0, false
	}
	for i, ni := range nodes {
		if sv.last[i].info != ni {
			return 0, 0, false
		}
	}
	for i, ni := range nodes {
		e := &sv.last[i]
		if gen := ni.GetGeneration(); gen != e.generation {
			n := ni.Node()
			if (n != nil) != e.present {
				return 0, 0, false // a node gone from its NodeInfo: rebuild the index
			}
			e.generation = gen
			if n != nil {
				e.fp = sv.refresh(n.Name, ni, gen).fp
			}
		}
		if e.present {
			sum += e.fp
			count++
		}
	}
	return sum, count, true
}

// lookUp totals nodes node by node through byNode and makes nodes the last list.
func (sv *SnapshotView) lookUp(nodes []fwk.NodeInfo) (sum uint64, count int) {
	last := make([]lastNode, len(nodes))
	index := make(map[string]int, len(nodes))
	for i, ni := range nodes {
		gen := ni.GetGeneration()
		last[i] = lastNode{info: ni, generation: gen}
		n := ni.Node()
		if n == nil {
			continue
		}
		count++
		c, ok := sv.byNode[n.Name]
		if !ok || c.generation != gen {
			c = sv.refresh(n.Name, ni, gen)
		}
		sum += c.fp
		last[i].fp, last[i].present = c.fp, true
		index[n.Name] = i
	}
	sv.last, sv.index = last, index
	if len(sv.byNode) > 2*count+64 { // nodes deleted since: keep the cache O(nodes)
		for name := range sv.byNode {
			if _, ok := index[name]; !ok {
				delete(sv.byNode, name)
			}
		}
	}
	return sum, count
}

// refresh computes and caches the state of node name at generation gen.
func (sv *SnapshotView) refresh(name string, ni fwk.NodeInfo, gen int64) cachedNode {
	st := nodeInfoState(ni)
	c := cachedNode{generation: gen, state: st, fp: st.Fingerprint()}
	sv.byNode[name] = c
	return c
}

func (sv *SnapshotView) state(ni fwk.NodeInfo) NodeState {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	n := ni.Node()
	if c, ok := sv.byNode[n.Name]; ok && c.generation == ni.GetGeneration() {
		return c.state
	}
	return nodeInfoState(ni)
}

func nodeInfoState(ni fwk.NodeInfo) NodeState {
	st := NodeState{Hash: NodeHash(ni.Node())}
	for _, pi := range ni.GetPods() {
		st.Pods++
		st.PodSum += PodHash(pi.GetPod().UID)
	}
	return st
}

// ---------------------------------------------------------------------------------------------
// What the engine has acknowledged.

type engineView struct {
	mu     sync.RWMutex
	nodes  map[string]*nodeRec
	pods   map[string]*podRec // namespace/name
	count  int                // nodes present
	sum    uint64             // sum of present nodes' fingerprints
	notify chan struct{}      // closed on the next change; nil when nobody waits
	// dra holds a hash of each DRA object (device class, resource slice, resource claim) as
	// the engine acknowledged it, by ObjectKey (view_dra.go).
	dra map[string]uint64
	// draClassesAndSlices counts the device classes and resource slices in dra.
	draClassesAndSlices int
}

type nodeRec struct {
	hash     uint64 // 0: the engine has no such node (pods may still name it)
	bound    int    // pods bound to it, as Sync sent them
	boundSum uint64
	pods     int // bound or assumed
	podSum   uint64
}

type podRec struct {
	uid     uint64
	bound   string // node Sync sent it on
	assumed string // node Assume put it on, until the binding is sent
}

func (r *nodeRec) state() NodeState { return NodeState{Hash: r.hash, Pods: r.pods, PodSum: r.podSum} }

func (v *engineView) node(name string) *nodeRec {
	r := v.nodes[name]
	if r == nil {
		r = &nodeRec{}
		v.nodes[name] = r
	}
	if r.hash != 0 {
		v.sum -= r.state().Fingerprint()
		v.count--
	}
	return r
}

func (v *engineView) done(name string, r *nodeRec) {
	if r.hash != 0 {
		v.sum += r.state().Fingerprint()
		v.count++
	} else if r.pods == 0 && r.bound == 0 {
		delete(v.nodes, name)
	}
}

// movePod moves a pod's contribution from its current effective node to the new record's.
func (v *engineView) setPod(key string, next *podRec) {
	prev := v.pods[key]
	if prev != nil {
		if prev.bound != "" {
			r := v.node(prev.bound)
			r.bound--
			r.boundSum -= prev.uid
			r.pods--
			r.podSum -= prev.uid
			v.done(prev.bound, r)
		} else if prev.assumed != "" {
			r := v.node(prev.assumed)
			r.pods--
			r.podSum -= prev.uid
			v.done(prev.assumed, r)
		}
	}
	if next == nil || (next.bound == "" && next.assumed == "") {
		delete(v.pods, key)
		return
	}
	v.pods[key] = next
	if next.bound != "" {
		r := v.node(next.bound)
		r.bound++
		r.boundSum += next.uid
		r.pods++
		r.podSum += next.uid
		v.done(next.bound, r)
	} else {
		r := v.node(next.assumed)
		r.pods++
		r.podSum += next.uid
		v.done(next.assumed, r)
	}
}

func (v *engineView) changed() {
	if v.notify != nil {
		close(v.notify)
		v.notify = nil
	}
}

// apply records a change the engine has acknowledged.
func (v *engineView) apply(change *sextantv1.Change) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.applyLocked(change)
	v.changed()
}

func (v *engineView) applyLocked(change *sextantv1.Change) {
	switch x := change.Change.(type) {
	case *sextantv1.Change_UpsertNode:
		r := v.node(x.UpsertNode.Name)
		r.hash = nodeProtoHash(x.UpsertNode)
		v.done(x.UpsertNode.Name, r)
	case *sextantv1.Change_UpsertPod:
		p := x.UpsertPod
		key := podKey(p.Namespace, p.Name)
		next := &podRec{uid: PodHash(types.UID(p.Uid)), bound: p.NodeName}
		if prev := v.pods[key]; prev != nil && p.NodeName == "" && prev.uid == next.uid {
			next.assumed = prev.assumed // still pending: the engine keeps the assumption
		}
		v.setPod(key, next)
	case *sextantv1.Change_UpsertDeviceClass, *sextantv1.Change_UpsertResourceSlice, *sextantv1.Change_UpsertResourceClaim:
		key := draKey(change)
		if _, ok := v.dra[key]; !ok && isClassOrSliceKey(key) {
			v.draClassesAndSlices++
		}
		v.dra[key] = draChangeHash(change)
	case *sextantv1.Change_Delete:
		switch x.Delete.Kind {
		case sextantv1.ObjectRef_NODE:
			r := v.node(x.Delete.Name)
			r.hash = 0
			v.done(x.Delete.Name, r)
		case sextantv1.ObjectRef_POD:
			v.setPod(podKey(x.Delete.Namespace, x.Delete.Name), nil)
		case sextantv1.ObjectRef_DEVICE_CLASS, sextantv1.ObjectRef_RESOURCE_SLICE, sextantv1.ObjectRef_RESOURCE_CLAIM:
			key := draKey(change)
			if _, ok := v.dra[key]; ok && isClassOrSliceKey(key) {
				v.draClassesAndSlices--
			}
			delete(v.dra, key)
		}
	}
}

// reset replaces the view with an acknowledged full snapshot; keepAssumed keeps the assumptions
// (same epoch: the engine keeps them).
func (v *engineView) reset(objects []*sextantv1.Change, keepAssumed bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var assumed map[string]*podRec
	if keepAssumed {
		for key, p := range v.pods {
			if p.assumed != "" && p.bound == "" {
				if assumed == nil {
					assumed = map[string]*podRec{}
				}
				assumed[key] = p
			}
		}
	}
	v.nodes, v.pods, v.count, v.sum, v.dra = map[string]*nodeRec{}, map[string]*podRec{}, 0, 0, map[string]uint64{}
	v.draClassesAndSlices = 0
	for _, o := range objects {
		v.applyLocked(o)
	}
	for key, p := range assumed {
		if cur := v.pods[key]; cur == nil || (cur.bound == "" && cur.uid == p.uid) {
			v.setPod(key, &podRec{uid: p.uid, assumed: p.assumed})
		}
	}
	v.changed()
}

func (v *engineView) assume(pod *v1.Pod, node string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := podKey(pod.Namespace, pod.Name)
	next := &podRec{uid: PodHash(pod.UID), assumed: node}
	if prev := v.pods[key]; prev != nil && prev.uid == next.uid && prev.bound != "" {
		return // already bound: the engine ignores the assumption's node
	}
	v.setPod(key, next)
	v.changed()
}

func (v *engineView) forget(namespace, name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := podKey(namespace, name)
	prev := v.pods[key]
	if prev == nil || prev.assumed == "" {
		return
	}
	v.setPod(key, &podRec{uid: prev.uid, bound: prev.bound})
	v.changed()
}

// totals returns the view's totals and a channel closed on its next change.
func (v *engineView) totals() (int, uint64, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.notify == nil {
		v.notify = make(chan struct{})
	}
	return v.count, v.sum, v.notify
}

// AwaitView implements ViewWaiter.
func (c *GRPCClient) AwaitView(ctx context.Context, want CacheView, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	poll := time.Millisecond
	for {
		count, sum, changed := c.view.totals()
		if synced, _, _ := c.Synced(); !synced {
			if !time.Now().Before(deadline) {
				return nil // Evaluate/Preempt fail closed, saying why
			}
			if err := c.pause(ctx, changed, min(poll, time.Until(deadline))); err != nil {
				return err
			}
			poll = min(2*poll, 20*time.Millisecond)
			continue
		}
		if count == want.Nodes && sum == want.Sum {
			return nil
		}
		behind := c.nodesBehind(want)
		if len(behind) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			sort.Strings(behind)
			more := ""
			if len(behind) > 5 {
				more = fmt.Sprintf(" and %d more", len(behind)-5)
				behind = behind[:5]
			}
			return fmt.Errorf("%w at %s: after %v the engine's view of node(s) %s%s still differs from the scheduler's snapshot and from the informer's store",
				ErrBehind, c.opts.Address, timeout, strings.Join(behind, ", "), more)
		}
		if err := c.pause(ctx, changed, min(poll, time.Until(deadline))); err != nil {
			return err
		}
		poll = min(2*poll, 20*time.Millisecond)
	}
}

// pause waits for the view to change, wait to pass, or ctx to end.
func (c *GRPCClient) pause(ctx context.Context, changed <-chan struct{}, wait time.Duration) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBehind, ctx.Err())
	case <-changed:
	case <-timer.C:
	}
	return nil
}

// nodesBehind returns the nodes whose state in the engine differs from the snapshot's and where
// the shim has not yet sent (and the engine acknowledged) what the informer's store holds.
func (c *GRPCClient) nodesBehind(want CacheView) []string {
	differ := map[string]bool{}
	inSnapshot := make(map[string]bool, want.Nodes)
	c.view.mu.RLock()
	want.Each(func(name string, s NodeState) {
		inSnapshot[name] = true
		r := c.view.nodes[name]
		if r == nil || r.hash == 0 || r.state() != s {
			differ[name] = true
		}
	})
	for name, r := range c.view.nodes {
		if r.hash != 0 && !inSnapshot[name] {
			differ[name] = true
		}
	}
	c.view.mu.RUnlock()
	var behind []string
	for name := range differ {
		if !c.caughtUp(name) {
			behind = append(behind, name)
		}
	}
	return behind
}

// caughtUp reports whether what the engine acknowledged for node equals the informer's store:
// the node (or its absence) and the pods bound to it.
func (c *GRPCClient) caughtUp(node string) bool {
	var want nodeRec
	if n, err := c.nodes.Get(node); err == nil {
		want.hash = NodeHash(n)
	}
	var pods []*v1.Pod
	if objs, err := c.podIndexer.ByIndex(podNodeIndex, node); err == nil {
		for _, o := range objs {
			if p, ok := o.(*v1.Pod); ok {
				pods = append(pods, p)
			}
		}
	} else if all, err := c.pods.List(labels.Everything()); err == nil {
		for _, p := range all {
			if p.Spec.NodeName == node {
				pods = append(pods, p)
			}
		}
	}
	for _, p := range pods {
		if !IsTerminal(p) {
			want.bound++
			want.boundSum += PodHash(p.UID)
		}
	}
	c.view.mu.RLock()
	defer c.view.mu.RUnlock()
	r := c.view.nodes[node]
	if r == nil {
		r = &nodeRec{}
	}
	return r.hash == want.hash && r.bound == want.bound && r.boundSum == want.boundSum
}

const podNodeIndex = "sextant.io/nodeName"

func podNodeIndexFunc(obj any) ([]string, error) {
	if p, ok := obj.(*v1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}, nil
	}
	return nil, nil
}

var _ cache.IndexFunc = podNodeIndexFunc
