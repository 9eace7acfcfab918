package engineclient

import (
	"context"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/dynamic-resource-allocation/resourceclaim"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// The consistency guard for DRA objects. A pod with resource claims depends on the device
// classes, the resource slices and its claims. The scheduler requeues such a pod on their events
// through its own listener of the shared informers, so a cycle can start before the Sync loop
// has sent the event (a pod waiting for devices is retried the moment a slice appears); the
// engine would then answer from the state without it and the pod would wait for another event.
// AwaitDRA waits, bounded, until the engine has acknowledged what the informers' stores hold: every
// device class and resource slice, and the pod's claims (each as the informer has it, or with the
// allocation the shim made that the informer does not show yet). Pods without claims skip it.

// DRAWaiter is implemented by clients that track the DRA objects the engine has acknowledged;
// the plugin calls AwaitDRA before Evaluate and Preempt for pods with resource claims.
type DRAWaiter interface {
	// AwaitDRA returns nil once the engine reflects the informers' device classes, resource
	// slices and the pod's claims. It waits at most timeout; when not synced at the deadline it
	// returns nil (the call that follows fails closed), when synced but behind an error wrapping
	// ErrBehind that names the objects.
	AwaitDRA(ctx context.Context, pod *v1.Pod, timeout time.Duration) error
}

var _ DRAWaiter = &GRPCClient{}

// draKey names a DRA object as the view keys it: KIND/namespace/name.
func draKey(change *sextantv1.Change) string {
	switch x := change.Change.(type) {
	case *sextantv1.Change_UpsertDeviceClass:
		return draObjectKey(sextantv1.ObjectRef_DEVICE_CLASS, "", x.UpsertDeviceClass.Name)
	case *sextantv1.Change_UpsertResourceSlice:
		return draObjectKey(sextantv1.ObjectRef_RESOURCE_SLICE, "", x.UpsertResourceSlice.Name)
	case *sextantv1.Change_UpsertResourceClaim:
		return draObjectKey(sextantv1.ObjectRef_RESOURCE_CLAIM, x.UpsertResourceClaim.Namespace, x.UpsertResourceClaim.Name)
	case *sextantv1.Change_Delete:
		return draObjectKey(x.Delete.Kind, x.Delete.Namespace, x.Delete.Name)
	}
	return ""
}

func draObjectKey(kind sextantv1.ObjectRef_Kind, namespace, name string) string {
	return kind.String() + "/" + namespace + "/" + name
}

// draChangeHash hashes the change's deterministic encoding (never 0).
func draChangeHash(change *sextantv1.Change) uint64 {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(change)
	if err != nil {
		return 1
	}
	return mix64(maphash.Bytes(viewSeed, b)) | 1
}

// draHashes caches the hash of each store object's change by object identity: an informer
// replaces the object on every update, so a hit is always current.
type draHashes struct {
	mu    sync.Mutex
	byKey map[string]draHash
}

type draHash struct {
	obj  any
	hash uint64
}

// prune drops the entries of objects no longer stored once the cache has grown well past them
// (slices are re-created under new names when a driver restarts).
func (h *draHashes) prune(stored map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byKey) <= 2*len(stored)+64 {
		return
	}
	for key := range h.byKey {
		if !stored[key] {
			delete(h.byKey, key)
		}
	}
}

func (h *draHashes) get(key string, obj any, change func() *sextantv1.Change) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.byKey[key]; ok && e.obj == obj {
		return e.hash
	}
	if h.byKey == nil {
		h.byKey = map[string]draHash{}
	}
	hash := draChangeHash(change())
	h.byKey[key] = draHash{obj: obj, hash: hash}
	return hash
}

// AwaitDRA implements DRAWaiter.
func (c *GRPCClient) AwaitDRA(ctx context.Context, pod *v1.Pod, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	poll := time.Millisecond
	for {
		_, _, changed := c.view.totals()
		synced, _, _ := c.Synced()
		if synced {
			behind, err := c.draBehind(pod)
			if err != nil {
				return err
			}
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
				return fmt.Errorf("%w at %s: after %v the engine's view of %s%s still differs from the informer's store",
					ErrBehind, c.opts.Address, timeout, strings.Join(behind, ", "), more)
			}
		} else if !time.Now().Before(deadline) {
			return nil // Evaluate/Preempt fail closed, saying why
		}
		if err := c.pause(ctx, changed, min(poll, time.Until(deadline))); err != nil {
			return err
		}
		poll = min(2*poll, 20*time.Millisecond)
	}
}

// draBehind lists the DRA objects the pod depends on whose acknowledged state differs from the
// informers' stores.
func (c *GRPCClient) draBehind(pod *v1.Pod) ([]string, error) {
	classes, err := c.deviceClasses.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	slices, err := c.resourceSlices.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	type want struct {
		key        string
		hashes     [2]uint64 // either is fine (a claim with or without the shim's overlay); 0: absent
		mustBeGone bool
	}
	wants := make([]want, 0, len(classes)+len(slices)+len(pod.Spec.ResourceClaims))
	stored := make(map[string]bool, len(classes)+len(slices))
	for _, dc := range classes {
		key := draObjectKey(sextantv1.ObjectRef_DEVICE_CLASS, "", dc.Name)
		stored[key] = true
		wants = append(wants, want{key: key, hashes: [2]uint64{c.draHashes.get(key, dc, func() *sextantv1.Change { return deviceClassChange(dc) })}})
	}
	for _, rs := range slices {
		key := draObjectKey(sextantv1.ObjectRef_RESOURCE_SLICE, "", rs.Name)
		stored[key] = true
		wants = append(wants, want{key: key, hashes: [2]uint64{c.draHashes.get(key, rs, func() *sextantv1.Change { return resourceSliceChange(rs) })}})
	}
	c.draHashes.prune(stored)
	for i := range pod.Spec.ResourceClaims {
		name, _, err := resourceclaim.Name(pod, &pod.Spec.ResourceClaims[i])
		if err != nil || name == nil {
			continue // PreEnqueue holds such pods; nothing the engine could be behind on
		}
		key := draObjectKey(sextantv1.ObjectRef_RESOURCE_CLAIM, pod.Namespace, *name)
		rc, err := c.claimLister.ResourceClaims(pod.Namespace).Get(*name)
		if err != nil {
			wants = append(wants, want{key: key, mustBeGone: true})
			continue
		}
		w := want{key: key}
		w.hashes[0] = draChangeHash(resourceClaimChange(rc))
		if sent := c.claims.forEngine(rc); sent != rc {
			w.hashes[1] = draChangeHash(resourceClaimChange(sent))
		}
		wants = append(wants, w)
	}

	var behind []string
	c.view.mu.RLock()
	defer c.view.mu.RUnlock()
	for _, w := range wants {
		acked, ok := c.view.dra[w.key]
		switch {
		case w.mustBeGone:
			if ok {
				behind = append(behind, w.key)
			}
		case !ok || (acked != w.hashes[0] && acked != w.hashes[1]):
			behind = append(behind, w.key)
		}
	}
	for key := range c.view.dra {
		isClassOrSlice := strings.HasPrefix(key, sextantv1.ObjectRef_DEVICE_CLASS.String()+"/") ||
			strings.HasPrefix(key, sextantv1.ObjectRef_RESOURCE_SLICE.String()+"/")
		if isClassOrSlice && !stored[key] {
			behind = append(behind, key+" (deleted)")
		}
	}
	return behind, nil
}
