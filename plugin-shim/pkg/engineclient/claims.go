package engineclient

import (
	"fmt"
	"strconv"
	"sync"

	resourceapi "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	resourcelisters "k8s.io/client-go/listers/resource/v1"
)

// ClaimTracker is the shim's assume cache of ResourceClaims: the informer's claims, overlaid
// with the allocations the shim made that the informer does not show yet. Without it, a
// restarted engine would get a snapshot in which those claims look free and could hand their
// devices to another pod.
//
// An overlay has two stages:
//   - pending: the engine allocated the claim in Assume and PreBind has not written it yet. Only
//     the engine sees it (the claim as the informer has it, with status.allocation set, as
//     upstream's in-flight allocations); Forget drops it.
//   - written: PreBind wrote the allocation (and the reservation); the claim the API server
//     returned is what Get answers and what the engine is sent, as upstream's assume cache.
//
// An overlay goes when the informer shows the claim allocated, shows a newer version of it
// (resourceVersion at least the written one: deallocated since), shows another UID, or the
// claim is deleted. Safe for concurrent use.
type ClaimTracker struct {
	lister resourcelisters.ResourceClaimLister

	mu       sync.Mutex
	overlays map[string]*claimOverlay // by namespace/name
	// onRestore runs (outside mu) when Forget drops a pending overlay, so the engine gets the
	// informer's version again.
	onRestore func(namespace, name string)
}

type claimOverlay struct {
	uid     types.UID
	pending *resourceapi.AllocationResult
	written *resourceapi.ResourceClaim
}

// NewClaimTracker returns a tracker over the claims lister.
func NewClaimTracker(lister resourcelisters.ResourceClaimLister) *ClaimTracker {
	return &ClaimTracker{lister: lister, overlays: map[string]*claimOverlay{}}
}

// ClaimNotFoundError is Get's error for a claim the informer does not have; the text is
// upstream's assume cache's ("could not find ResourceClaim \"ns/name\"").
type ClaimNotFoundError struct{ Key string }

func (e *ClaimNotFoundError) Error() string {
	return fmt.Sprintf("could not find ResourceClaim %q", e.Key)
}

// Get returns the claim as the API server has it to the shim's knowledge: the version PreBind
// wrote while the informer does not show it yet, else the informer's. The object is shared:
// do not modify it.
func (t *ClaimTracker) Get(namespace, name string) (*resourceapi.ResourceClaim, error) {
	current, err := t.lister.ResourceClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		t.drop(namespace, name)
		return nil, &ClaimNotFoundError{Key: namespace + "/" + name}
	}
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if o := t.liveLocked(current); o != nil && o.written != nil {
		return o.written, nil
	}
	return current, nil
}

// AssumeWritten records the claim the API server returned after PreBind wrote its allocation
// and reservation.
func (t *ClaimTracker) AssumeWritten(claim *resourceapi.ResourceClaim) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.overlays[claimKey(claim.Namespace, claim.Name)] = &claimOverlay{uid: claim.UID, written: claim}
}

// assumePending records an allocation the engine made in Assume.
func (t *ClaimTracker) assumePending(a ClaimAllocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := claimKey(a.Namespace, a.Name)
	if o := t.overlays[key]; o != nil && o.written != nil && o.uid == a.UID {
		return // already written; the informer has not caught up
	}
	t.overlays[key] = &claimOverlay{uid: a.UID, pending: a.Allocation}
}

// forget drops a pending overlay (the pod's assumption was forgotten); a written one stays, as
// the API server has that allocation.
func (t *ClaimTracker) forget(namespace, name string) {
	key := claimKey(namespace, name)
	t.mu.Lock()
	o := t.overlays[key]
	dropped := o != nil && o.written == nil
	if dropped {
		delete(t.overlays, key)
	}
	restore := t.onRestore
	t.mu.Unlock()
	if dropped && restore != nil {
		restore(namespace, name)
	}
}

// drop forgets any overlay of a claim that is gone.
func (t *ClaimTracker) drop(namespace, name string) {
	t.mu.Lock()
	delete(t.overlays, claimKey(namespace, name))
	t.mu.Unlock()
}

// forEngine returns the version of the informer's claim the engine is sent: the written
// overlay, the informer's claim with the pending allocation, or the claim itself (the same
// pointer) when no overlay applies.
func (t *ClaimTracker) forEngine(current *resourceapi.ResourceClaim) *resourceapi.ResourceClaim {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.liveLocked(current)
	switch {
	case o == nil:
		return current
	case o.written != nil:
		return o.written
	default:
		c := current.DeepCopy()
		c.Status.Allocation = o.pending
		return c
	}
}

// liveLocked returns the claim's overlay unless the informer's version supersedes it, in which
// case the overlay is dropped.
func (t *ClaimTracker) liveLocked(current *resourceapi.ResourceClaim) *claimOverlay {
	key := claimKey(current.Namespace, current.Name)
	o := t.overlays[key]
	if o == nil {
		return nil
	}
	superseded := current.UID != o.uid || current.Status.Allocation != nil ||
		(o.written != nil && newerOrSame(current.ResourceVersion, o.written.ResourceVersion))
	if superseded {
		delete(t.overlays, key)
		return nil
	}
	return o
}

// newerOrSame compares resource versions as upstream's assume cache does (as integers); an
// unparsable version is never newer.
func newerOrSame(version, than string) bool {
	v, err1 := strconv.ParseInt(version, 10, 64)
	w, err2 := strconv.ParseInt(than, 10, 64)
	return err1 == nil && err2 == nil && v >= w
}

func claimKey(namespace, name string) string { return namespace + "/" + name }
