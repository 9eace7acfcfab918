package engineclient

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	resourceapi "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// The Sync protocol, as the engine implements it: one SyncResponse per SyncRequest, in order. The
// loop is lock-step: it writes one message and waits (bounded by the timeout) for its answer
// before writing the next, so an answer always refers to the last message written.
//
// Nothing is lost: the change queue is cleared and then the listers are read for every full
// snapshot, so each event is either in the snapshot or queued after it (at worst both; upserts
// and deletes are idempotent). While the stream is down the queue is off, and the next stream
// starts with a snapshot again.

// Run connects to the engine and keeps it in sync until ctx ends: it waits for the informers'
// caches, then (re)opens the Sync stream with backoff whenever it breaks. It closes the
// connection on return.
func (c *GRPCClient) Run(ctx context.Context) {
	defer c.conn.Close()
	logger := c.logger
	if !cache.WaitForCacheSync(ctx.Done(), c.cacheSynced...) {
		return
	}
	backoff := c.opts.MinBackoff
	for {
		synced, err := c.runStream(ctx)
		c.setUnsynced()
		if ctx.Err() != nil {
			return
		}
		if synced {
			backoff = c.opts.MinBackoff
		}
		logger.Error(err, "Sync stream to the engine ended; reconnecting", "address", c.opts.Address, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// runStream runs one Sync stream: a full snapshot, then deltas, until an error. synced reports
// whether a snapshot was acknowledged on it.
func (c *GRPCClient) runStream(ctx context.Context) (synced bool, err error) {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Sync(streamCtx)
	if err != nil {
		RequestErrors.WithLabelValues(methodSync, errorCode(err).String()).Inc()
		return false, c.callError("Sync", err)
	}
	s := &syncStream{c: c, parent: ctx, ctx: streamCtx, stream: stream, cancel: cancel, responses: make(chan recvResult, 1)}
	go s.receive(streamCtx)

	if err := s.sendFull(ResyncConnect); err != nil {
		return false, err
	}
	for {
		if changes := c.queue.popBatch(maxDeltaChanges, maxDeltaBytes); len(changes) > 0 {
			if err := s.sendDelta(changes); err != nil {
				return true, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case r := <-s.responses:
			// Nothing is outstanding while idle: this is the stream ending, or a protocol error.
			if r.err != nil {
				return true, s.streamError(r.err, c.opts.Timeout)
			}
			return true, fmt.Errorf("%w: unsolicited SyncResponse %v", ErrEngine, r.resp)
		case <-c.resyncCh:
			c.logger.V(2).Info("Resync requested; sending a full snapshot")
			if err := s.sendFull(c.takeResyncReason()); err != nil {
				return true, err
			}
		case <-c.queue.notify:
		}
	}
}

type recvResult struct {
	resp *sextantv1.SyncResponse
	err  error
}

type syncStream struct {
	c         *GRPCClient
	parent    context.Context // Run's: done when the scheduler stops
	ctx       context.Context // the stream's: canceled when a round trip times out
	stream    sextantv1.Engine_SyncClient
	cancel    context.CancelFunc
	responses chan recvResult
}

func (s *syncStream) receive(ctx context.Context) {
	for {
		resp, err := s.stream.Recv()
		select {
		case s.responses <- recvResult{resp, err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// roundTrip writes req and waits for its answer; past the timeout it cancels the stream.
func (s *syncStream) roundTrip(req *sextantv1.SyncRequest, sequence uint64, timeout time.Duration) (*sextantv1.SyncResponse, error) {
	timer := time.AfterFunc(timeout, s.cancel)
	defer timer.Stop()
	start := time.Now()
	sendErr := s.stream.Send(req)
	if sendErr == nil {
		s.c.lastSent.Store(sequence)
	}
	// After a failed Send the server's status, if it ended the stream, comes from Recv.
	select {
	case r := <-s.responses:
		if r.err != nil {
			observeRequest(methodSync, start, r.err)
			return nil, s.streamError(r.err, timeout)
		}
		if sendErr != nil {
			observeRequest(methodSync, start, sendErr)
			return nil, s.streamError(sendErr, timeout)
		}
		observeRequest(methodSync, start, nil)
		AppliedSequence.Set(float64(r.resp.AppliedSequence))
		return r.resp, nil
	case <-s.ctx.Done():
		observeRequest(methodSync, start, s.ctx.Err())
		return nil, s.streamError(s.ctx.Err(), timeout)
	}
}

func (s *syncStream) streamError(err error, timeout time.Duration) error {
	if s.parent.Err() != nil {
		return s.parent.Err()
	}
	if s.ctx.Err() != nil {
		return fmt.Errorf("%w: Sync at %s: no answer within %v", ErrTimeout, s.c.opts.Address, timeout)
	}
	return s.c.callError("Sync", err)
}

// sendFull sends a full snapshot from the listers and waits for its acknowledgement. On a new
// epoch (a restarted engine) it assumes again the pods still in flight; on the same epoch it
// retries the Forgets that failed. reason labels the resyncs metric.
func (s *syncStream) sendFull(reason string) error {
	c := s.c
	Resyncs.WithLabelValues(reason).Inc()
	select {
	case <-c.resyncCh: // this snapshot answers any resync asked for so far
	default:
	}
	c.resyncEpoch.Store(false)
	c.setUnsynced()
	c.queue.reset(true)
	objects, err := c.snapshotObjects()
	if err != nil {
		return err
	}
	sequence := c.lastSent.Load() + 1
	req := &sextantv1.SyncRequest{Message: &sextantv1.SyncRequest_Full{Full: &sextantv1.FullSnapshot{
		Sequence: sequence, Objects: objects, ScoringStrategy: c.opts.ScoringStrategy,
	}}}
	resp, err := s.roundTrip(req, sequence, snapshotTimeoutFactor*c.opts.Timeout)
	if err != nil {
		return fmt.Errorf("full snapshot %d: %w", sequence, err)
	}
	if resp.ResyncRequired || resp.AppliedSequence != sequence {
		return fmt.Errorf("%w: full snapshot %d answered with applied sequence %d, resync_required %v",
			ErrEngine, sequence, resp.AppliedSequence, resp.ResyncRequired)
	}
	c.mu.RLock()
	previous := c.epoch
	c.mu.RUnlock()
	c.view.reset(objects, resp.Epoch == previous)
	if resp.Epoch != previous {
		if err := c.reassume(resp.Epoch); err != nil {
			return err
		}
	} else {
		c.retryForgets(resp.Epoch)
	}
	c.mu.Lock()
	c.epoch, c.synced = resp.Epoch, true
	c.mu.Unlock()
	c.logger.V(2).Info("Engine synced", "address", c.opts.Address, "epoch", resp.Epoch, "sequence", sequence,
		"objects", len(objects), "previousEpoch", previous)
	return nil
}

// A delta carries the changes queued while the previous one was in flight, up to these bounds:
// under load (a pod created, bound and updated hundreds of times a second) one round trip, and
// one wake-up of the engine's stream, then serves many events; when idle each event still goes
// alone, at once. The engine applies a delta whole or not at all, as it does one change.
const (
	maxDeltaChanges = 256
	maxDeltaBytes   = 4 << 20
)

func (s *syncStream) sendDelta(changes []*sextantv1.Change) error {
	c := s.c
	sequence := c.lastSent.Load() + 1
	req := &sextantv1.SyncRequest{Message: &sextantv1.SyncRequest_Delta{Delta: &sextantv1.Delta{
		Sequence: sequence, Changes: changes,
	}}}
	resp, err := s.roundTrip(req, sequence, c.opts.Timeout)
	if err != nil {
		return fmt.Errorf("delta %d: %w", sequence, err)
	}
	c.mu.RLock()
	epoch := c.epoch
	c.mu.RUnlock()
	reason := ResyncRequired
	switch {
	case resp.Epoch != epoch:
		reason = ResyncEpochChanged
		c.logger.Info("Engine epoch changed; sending a full snapshot", "previousEpoch", epoch, "epoch", resp.Epoch)
	case resp.ResyncRequired:
		c.logger.Info("Engine asked for a resync; sending a full snapshot", "sequence", sequence, "appliedSequence", resp.AppliedSequence)
	case resp.AppliedSequence != sequence:
		c.logger.Info("Engine applied an unexpected sequence; sending a full snapshot", "sequence", sequence, "appliedSequence", resp.AppliedSequence)
	default:
		for _, change := range changes {
			c.view.apply(change)
		}
		return nil
	}
	return s.sendFull(reason)
}

// reassume re-creates on a restarted engine the assumptions of pods whose binding is still in
// flight (still pending in the lister); the others are dropped.
func (c *GRPCClient) reassume(epoch string) error {
	c.pending.Lock()
	clear(c.toForget) // the new engine never had them
	var todo []assumption
	for key, a := range c.assumed {
		current, err := c.pods.Pods(a.pod.Namespace).Get(a.pod.Name)
		if err != nil || current.Spec.NodeName != "" || current.UID != a.pod.UID {
			delete(c.assumed, key)
			continue
		}
		todo = append(todo, a)
	}
	c.pending.Unlock()
	for _, a := range todo {
		// The snapshot had the claims the engine allocated before as allocated, so the new
		// engine allocates only what was missing then.
		allocations, err := c.assumeRPC(context.Background(), a.pod, a.node, epoch)
		if err != nil {
			return fmt.Errorf("assuming in-flight pod %s/%s on %s again: %w", a.pod.Namespace, a.pod.Name, a.node, err)
		}
		c.view.assume(a.pod, a.node)
		if len(allocations) > 0 {
			c.pending.Lock()
			if cur, ok := c.assumed[podKey(a.pod.Namespace, a.pod.Name)]; ok {
				cur.allocations = append(cur.allocations, allocations...)
				c.assumed[podKey(a.pod.Namespace, a.pod.Name)] = cur
			}
			c.pending.Unlock()
			for _, alloc := range allocations {
				c.claims.assumePending(alloc)
			}
		}
	}
	if len(todo) > 0 {
		c.logger.V(2).Info("Assumed in-flight pods again on the restarted engine", "count", len(todo))
	}
	return nil
}

func (c *GRPCClient) retryForgets(epoch string) {
	c.pending.Lock()
	todo := make(map[string]forgetRef, len(c.toForget))
	for k, v := range c.toForget {
		todo[k] = v
	}
	c.pending.Unlock()
	for key, ref := range todo {
		if err := c.forgetRPC(context.Background(), ref.namespace, ref.name, epoch); err != nil {
			c.logger.Error(err, "Forget retry failed; will retry after the next resync", "pod", key)
			continue
		}
		c.view.forget(ref.namespace, ref.name)
		c.pending.Lock()
		delete(c.toForget, key)
		c.pending.Unlock()
	}
}

// setUnsynced marks the engine unusable for per-pod calls. It waits for Assume and Forget
// calls in flight, so their bookkeeping is complete before the next snapshot.
func (c *GRPCClient) setUnsynced() {
	c.queue.reset(false)
	c.mu.Lock()
	c.synced = false
	c.mu.Unlock()
}

// snapshotObjects lists every object (nodes, pods, priority classes, PDBs, namespaces, device
// classes, resource slices, resource claims), sorted by kind and key so that snapshots are
// deterministic. Claims go as the claim tracker has them (with the allocations the informer does
// not show yet).
func (c *GRPCClient) snapshotObjects() ([]*sextantv1.Change, error) {
	var out []*sextantv1.Change
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertNode{UpsertNode: NodeToProto(n)}})
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	sort.Slice(pods, func(i, j int) bool {
		return podKey(pods[i].Namespace, pods[i].Name) < podKey(pods[j].Namespace, pods[j].Name)
	})
	for _, p := range pods {
		if !IsTerminal(p) {
			out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: PodToProto(p)}})
		}
	}
	pcs, err := c.priorities.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing priority classes: %w", err)
	}
	sort.Slice(pcs, func(i, j int) bool { return pcs[i].Name < pcs[j].Name })
	for _, pc := range pcs {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPriorityClass{UpsertPriorityClass: PriorityClassToProto(pc)}})
	}
	pdbs, err := c.budgets.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pod disruption budgets: %w", err)
	}
	sort.Slice(pdbs, func(i, j int) bool {
		return podKey(pdbs[i].Namespace, pdbs[i].Name) < podKey(pdbs[j].Namespace, pdbs[j].Name)
	})
	for _, pdb := range pdbs {
		converted, err := PodDisruptionBudgetToProto(pdb)
		if err != nil {
			c.logger.Error(err, "Leaving an invalid PodDisruptionBudget out of the snapshot")
			continue
		}
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPodDisruptionBudget{UpsertPodDisruptionBudget: converted}})
	}
	namespaces, err := c.namespaces.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	sort.Slice(namespaces, func(i, j int) bool { return namespaces[i].Name < namespaces[j].Name })
	for _, ns := range namespaces {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertNamespace{UpsertNamespace: NamespaceToProto(ns)}})
	}
	classes, err := c.deviceClasses.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing device classes: %w", err)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i].Name < classes[j].Name })
	for _, dc := range classes {
		out = append(out, deviceClassChange(dc))
	}
	slices, err := c.resourceSlices.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing resource slices: %w", err)
	}
	sort.Slice(slices, func(i, j int) bool { return slices[i].Name < slices[j].Name })
	for _, rs := range slices {
		out = append(out, resourceSliceChange(rs))
	}
	claims, err := c.claimLister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing resource claims: %w", err)
	}
	sort.Slice(claims, func(i, j int) bool {
		return claimKey(claims[i].Namespace, claims[i].Name) < claimKey(claims[j].Namespace, claims[j].Name)
	})
	for _, rc := range claims {
		out = append(out, resourceClaimChange(c.claims.forEngine(rc)))
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------
// Informer events -> changes.

func (c *GRPCClient) registerInformers(factory informers.SharedInformerFactory) error {
	nodeInformer := factory.Core().V1().Nodes()
	podInformer := factory.Core().V1().Pods()
	pcInformer := factory.Scheduling().V1().PriorityClasses()
	pdbInformer := factory.Policy().V1().PodDisruptionBudgets()
	nsInformer := factory.Core().V1().Namespaces()
	classInformer := factory.Resource().V1().DeviceClasses()
	sliceInformer := factory.Resource().V1().ResourceSlices()
	claimInformer := factory.Resource().V1().ResourceClaims()
	c.nodes, c.pods = nodeInformer.Lister(), podInformer.Lister()
	c.priorities, c.budgets = pcInformer.Lister(), pdbInformer.Lister()
	c.namespaces = nsInformer.Lister()
	c.deviceClasses, c.resourceSlices = classInformer.Lister(), sliceInformer.Lister()
	c.claimLister = claimInformer.Lister()
	c.claims = NewClaimTracker(c.claimLister)
	c.claims.onRestore = c.restoreClaim
	// Pods by node, for the consistency guard's slow path. An informer already started (never the
	// case for a plugin) refuses new indexers; the guard then lists all pods instead.
	if err := podInformer.Informer().AddIndexers(cache.Indexers{podNodeIndex: podNodeIndexFunc}); err != nil {
		c.logger.V(2).Info("Pod informer refused the node index; the consistency guard lists pods instead", "err", err)
	}
	c.podIndexer = podInformer.Informer().GetIndexer()

	// Read only, for the default spread selector: asking for the informers here makes the
	// factory start them, and Run waits for their caches like the others'.
	services, rcs := factory.Core().V1().Services(), factory.Core().V1().ReplicationControllers()
	rss, sss := factory.Apps().V1().ReplicaSets(), factory.Apps().V1().StatefulSets()
	c.spread = SpreadListers{Services: services.Lister(), ReplicationControllers: rcs.Lister(),
		ReplicaSets: rss.Lister(), StatefulSets: sss.Lister()}
	for _, informer := range []cache.SharedIndexInformer{services.Informer(), rcs.Informer(), rss.Informer(), sss.Informer()} {
		c.cacheSynced = append(c.cacheSynced, informer.HasSynced)
	}

	handlers := []struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandlerFuncs
	}{
		{nodeInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onNode(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onNode(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_NODE, obj) },
		}},
		{podInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onPod(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onPod(old, obj) },
			DeleteFunc: func(obj any) { c.onPodDelete(obj) },
		}},
		{pcInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onPriorityClass(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onPriorityClass(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_PRIORITY_CLASS, obj) },
		}},
		{pdbInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onPodDisruptionBudget(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onPodDisruptionBudget(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_POD_DISRUPTION_BUDGET, obj) },
		}},
		{nsInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onNamespace(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onNamespace(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_NAMESPACE, obj) },
		}},
		{classInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onDeviceClass(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onDeviceClass(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_DEVICE_CLASS, obj) },
		}},
		{sliceInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onResourceSlice(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onResourceSlice(old, obj) },
			DeleteFunc: func(obj any) { c.onDelete(sextantv1.ObjectRef_RESOURCE_SLICE, obj) },
		}},
		{claimInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.onResourceClaim(nil, obj) },
			UpdateFunc: func(old, obj any) { c.onResourceClaim(old, obj) },
			DeleteFunc: func(obj any) { c.onResourceClaimDelete(obj) },
		}},
	}
	for _, h := range handlers {
		h.handler = c.gated(h.handler)
		reg, err := h.informer.AddEventHandler(h.handler)
		if err != nil {
			return fmt.Errorf("registering an event handler: %w", err)
		}
		// The registration is synced once the initial list has been delivered to the handler,
		// so the first snapshot clears those events rather than repeating them as deltas.
		c.cacheSynced = append(c.cacheSynced, reg.HasSynced)
	}
	return nil
}

// gated runs beforeEvent (a test hook) before each of the handler's functions.
func (c *GRPCClient) gated(h cache.ResourceEventHandlerFuncs) cache.ResourceEventHandlerFuncs {
	gate := func() {
		if f := c.beforeEvent.Load(); f != nil {
			(*f)()
		}
	}
	add, update, del := h.AddFunc, h.UpdateFunc, h.DeleteFunc
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { gate(); add(obj) },
		UpdateFunc: func(old, obj any) { gate(); update(old, obj) },
		DeleteFunc: func(obj any) { gate(); del(obj) },
	}
}

func (c *GRPCClient) onNode(oldObj, obj any) {
	n, ok := obj.(*v1.Node)
	if !ok {
		return
	}
	converted := NodeToProto(n)
	if old, ok := oldObj.(*v1.Node); ok && proto.Equal(NodeToProto(old), converted) {
		return
	}
	c.queue.push(&sextantv1.Change{Change: &sextantv1.Change_UpsertNode{UpsertNode: converted}})
}

func (c *GRPCClient) onPod(oldObj, obj any) {
	p, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	if p.Spec.NodeName != "" || IsTerminal(p) {
		c.dropAssumed(podKey(p.Namespace, p.Name)) // the binding has landed
	}
	if IsTerminal(p) {
		if old, ok := oldObj.(*v1.Pod); ok && IsTerminal(old) {
			return
		}
		c.queue.push(deleteChange(sextantv1.ObjectRef_POD, p.Namespace, p.Name))
		return
	}
	converted := PodToProto(p)
	if old, ok := oldObj.(*v1.Pod); ok && !IsTerminal(old) && proto.Equal(PodToProto(old), converted) {
		return
	}
	c.queue.push(&sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: converted}})
}

func (c *GRPCClient) onPodDelete(obj any) {
	namespace, name, ok := objectKey(obj)
	if !ok {
		return
	}
	c.dropAssumed(podKey(namespace, name))
	c.queue.push(deleteChange(sextantv1.ObjectRef_POD, namespace, name))
}

func (c *GRPCClient) onPriorityClass(oldObj, obj any) {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	if !ok {
		return
	}
	converted := PriorityClassToProto(pc)
	if old, ok := oldObj.(*schedulingv1.PriorityClass); ok && proto.Equal(PriorityClassToProto(old), converted) {
		return
	}
	c.queue.push(&sextantv1.Change{Change: &sextantv1.Change_UpsertPriorityClass{UpsertPriorityClass: converted}})
}

func (c *GRPCClient) onPodDisruptionBudget(oldObj, obj any) {
	pdb, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return
	}
	converted, err := PodDisruptionBudgetToProto(pdb)
	if err != nil {
		// The engine keeps no stale copy of an object it cannot be told about.
		c.logger.Error(err, "Sending an invalid PodDisruptionBudget as a delete")
		c.queue.push(deleteChange(sextantv1.ObjectRef_POD_DISRUPTION_BUDGET, pdb.Namespace, pdb.Name))
		return
	}
	if old, ok := oldObj.(*policyv1.PodDisruptionBudget); ok {
		if oldConverted, err := PodDisruptionBudgetToProto(old); err == nil && proto.Equal(oldConverted, converted) {
			return
		}
	}
	c.queue.push(&sextantv1.Change{Change: &sextantv1.Change_UpsertPodDisruptionBudget{UpsertPodDisruptionBudget: converted}})
}

func (c *GRPCClient) onNamespace(oldObj, obj any) {
	ns, ok := obj.(*v1.Namespace)
	if !ok {
		return
	}
	converted := NamespaceToProto(ns)
	if old, ok := oldObj.(*v1.Namespace); ok && proto.Equal(NamespaceToProto(old), converted) {
		return
	}
	c.queue.push(&sextantv1.Change{Change: &sextantv1.Change_UpsertNamespace{UpsertNamespace: converted}})
}

func (c *GRPCClient) onDeviceClass(oldObj, obj any) {
	dc, ok := obj.(*resourceapi.DeviceClass)
	if !ok {
		return
	}
	change := deviceClassChange(dc)
	if old, ok := oldObj.(*resourceapi.DeviceClass); ok && proto.Equal(deviceClassChange(old), change) {
		return
	}
	c.queue.push(change)
}

func (c *GRPCClient) onResourceSlice(oldObj, obj any) {
	rs, ok := obj.(*resourceapi.ResourceSlice)
	if !ok {
		return
	}
	change := resourceSliceChange(rs)
	if old, ok := oldObj.(*resourceapi.ResourceSlice); ok && proto.Equal(resourceSliceChange(old), change) {
		return
	}
	c.queue.push(change)
}

// onResourceClaim sends the claim as the claim tracker has it: while an allocation the shim made
// is not visible in the informer, the overlay goes instead of the informer's version.
func (c *GRPCClient) onResourceClaim(oldObj, obj any) {
	rc, ok := obj.(*resourceapi.ResourceClaim)
	if !ok {
		return
	}
	send := c.claims.forEngine(rc)
	change := resourceClaimChange(send)
	if old, ok := oldObj.(*resourceapi.ResourceClaim); ok && send == rc && proto.Equal(resourceClaimChange(old), change) {
		return
	}
	c.queue.push(change)
}

func (c *GRPCClient) onResourceClaimDelete(obj any) {
	namespace, name, ok := objectKey(obj)
	if !ok {
		return
	}
	c.claims.drop(namespace, name)
	c.queue.push(deleteChange(sextantv1.ObjectRef_RESOURCE_CLAIM, namespace, name))
}

// restoreClaim sends the informer's version of a claim whose pending allocation was forgotten,
// so an engine that was sent the allocation (in a snapshot) frees its devices.
func (c *GRPCClient) restoreClaim(namespace, name string) {
	rc, err := c.claimLister.ResourceClaims(namespace).Get(name)
	if err != nil {
		return // gone: its delete is queued
	}
	c.queue.push(resourceClaimChange(c.claims.forEngine(rc)))
}

func deviceClassChange(dc *resourceapi.DeviceClass) *sextantv1.Change {
	return &sextantv1.Change{Change: &sextantv1.Change_UpsertDeviceClass{UpsertDeviceClass: DeviceClassToProto(dc)}}
}

func resourceSliceChange(rs *resourceapi.ResourceSlice) *sextantv1.Change {
	return &sextantv1.Change{Change: &sextantv1.Change_UpsertResourceSlice{UpsertResourceSlice: ResourceSliceToProto(rs)}}
}

func resourceClaimChange(rc *resourceapi.ResourceClaim) *sextantv1.Change {
	return &sextantv1.Change{Change: &sextantv1.Change_UpsertResourceClaim{UpsertResourceClaim: ResourceClaimToProto(rc)}}
}

func (c *GRPCClient) onDelete(kind sextantv1.ObjectRef_Kind, obj any) {
	namespace, name, ok := objectKey(obj)
	if !ok {
		return
	}
	c.queue.push(deleteChange(kind, namespace, name))
}

// objectKey names a deleted object, also when the informer hands a tombstone.
func objectKey(obj any) (namespace, name string, ok bool) {
	if tombstone, isTombstone := obj.(cache.DeletedFinalStateUnknown); isTombstone {
		namespace, name, err := cache.SplitMetaNamespaceKey(tombstone.Key)
		return namespace, name, err == nil && name != ""
	}
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return "", "", false
	}
	namespace, name, err = cache.SplitMetaNamespaceKey(key)
	return namespace, name, err == nil
}

func deleteChange(kind sextantv1.ObjectRef_Kind, namespace, name string) *sextantv1.Change {
	return &sextantv1.Change{Change: &sextantv1.Change_Delete{Delete: &sextantv1.ObjectRef{Kind: kind, Namespace: namespace, Name: name}}}
}

// changeQueue holds the changes not yet sent, in event order. While off (no stream) it drops
// what it is given: the next stream starts with a full snapshot.
type changeQueue struct {
	mu     sync.Mutex
	on     bool
	items  []*sextantv1.Change
	notify chan struct{}
}

func (q *changeQueue) push(change *sextantv1.Change) {
	q.mu.Lock()
	if !q.on {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, change)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// popBatch removes the oldest changes, in order: at least one when any is queued, then more
// while there are at most maxChanges and their encodings add up to at most maxBytes.
func (q *changeQueue) popBatch(maxChanges, maxBytes int) []*sextantv1.Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, size := 0, 0
	for n < len(q.items) && n < maxChanges {
		size += proto.Size(q.items[n])
		if n > 0 && size > maxBytes {
			break
		}
		n++
	}
	if n == 0 {
		return nil
	}
	batch := make([]*sextantv1.Change, n)
	copy(batch, q.items[:n])
	clear(q.items[:n])
	q.items = q.items[n:]
	return batch
}

func (q *changeQueue) reset(on bool) {
	q.mu.Lock()
	q.on, q.items = on, nil
	q.mu.Unlock()
}
