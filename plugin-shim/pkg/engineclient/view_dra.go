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

// draHashes caches each store object's view key and change hash by object identity: an
// informer replaces the object on every update, so a hit is always current.
type draHashes struct {
	mu    sync.Mutex
	byObj map[any]draHash
}

type draHash struct {
	key  string
	hash uint64
}

// get returns the object's view key and change hash, computed on the first sight of obj.
func (h *draHashes) get(obj any, key func() string, change func() *sextantv1.Change) (string, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.byObj[obj]; ok {
		return e.key, e.hash
	}
	if h.byObj == nil {
		h.byObj = map[any]draHash{}
	}
	e := draHash{key: key(), hash: draChangeHash(change())}
	h.byObj[obj] = e
	return e.key, e.hash
}

// prune drops the entries of objects no longer stored once the cache has grown well past them
// (every update replaces an object; slices are re-created under new names when a driver
// restarts). The stores hold n objects now, which stored lists.
func (h *draHashes) prune(n int, stored func(yield func(obj any))) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byObj) <= 2*n+64 {
		return
	}
	keep := make(map[any]draHash, n)
	stored(func(obj any) {
		if e, ok := h.byObj[obj]; ok {
			keep[obj] = e
		}
	})
	h.byObj = keep
}

// The view-key prefixes of the objects every pod with claims depends on.
var (
	deviceClassKeyPrefix   = sextantv1.ObjectRef_DEVICE_CLASS.String() + "/"
	resourceSliceKeyPrefix = sextantv1.ObjectRef_RESOURCE_SLICE.String() + "/"
)

func isClassOrSliceKey(key string) bool {
	return strings.HasPrefix(key, deviceClassKeyPrefix) || strings.HasPrefix(key, resourceSliceKeyPrefix)
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
	for _, dc := range classes {
		key, hash := c.draHashes.get(dc,
			func() string { return draObjectKey(sextantv1.ObjectRef_DEVICE_CLASS, "", dc.Name) },
			func() *sextantv1.Change { return deviceClassChange(dc) })
		wants = append(wants, want{key: key, hashes: [2]uint64{hash}})
	}
	for _, rs := range slices {
		key, hash := c.draHashes.get(rs,
			func() string { return draObjectKey(sextantv1.ObjectRef_RESOURCE_SLICE, "", rs.Name) },
			func() *sextantv1.Change { return resourceSliceChange(rs) })
		wants = append(wants, want{key: key, hashes: [2]uint64{hash}})
	}
	storedClassesAndSlices := len(wants)
	c.draHashes.prune(storedClassesAndSlices, func(yield func(any)) {
		for _, dc := range classes {
			yield(dc)
		}
		for _, rs := range slices {
			yield(rs)
		}
	})
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
	ackedStored := 0 // stored classes and slices the engine has, in any version
	for i, w := range wants {
		acked, ok := c.view.dra[w.key]
		if ok && i < storedClassesAndSlices {
			ackedStored++
		}
		switch {
		case w.mustBeGone:
			if ok {
				behind = append(behind, w.key)
			}
		case !ok || (acked != w.hashes[0] && acked != w.hashes[1]):
			behind = append(behind, w.key)
		}
	}
	// The engine has a class or slice the stores no longer hold exactly when it has more of them
	// than the stored ones it has; only then are its keys walked to name them.
	if c.view.draClassesAndSlices != ackedStored {
		stored := make(map[string]bool, storedClassesAndSlices)
		for _, w := range wants[:storedClassesAndSlices] {
			stored[w.key] = true
		}
		for key := range c.view.dra {
			if isClassOrSliceKey(key) && !stored[key] {
				behind = append(behind, key+" (deleted)")
			}
		}
	}
	return behind, nil
}
