package e2e

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"sextant.io/plugin-shim/pkg/controlplane"
)

// The scheduler's service account, with deploy/kubernetes/rbac.yaml, can do what the scheduler
// does and nothing more. The API server's own authorizer answers (SubjectAccessReview).
func TestSchedulerLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	type access struct {
		verb, group, resource, subresource, namespace, name string
	}
	allowed := []access{
		{verb: "list", resource: "pods"},
		{verb: "watch", resource: "nodes"},
		{verb: "list", resource: "namespaces"},
		{verb: "create", resource: "pods", subresource: "binding", namespace: "default"},
		{verb: "patch", resource: "pods", subresource: "status", namespace: "default"},
		{verb: "delete", resource: "pods", namespace: "default"}, // preemption victims
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: "default"},
		{verb: "list", group: "scheduling.k8s.io", resource: "priorityclasses"},
		{verb: "list", group: "policy", resource: "poddisruptionbudgets"},
		{verb: "list", group: "apps", resource: "replicasets"},
		{verb: "list", group: "resource.k8s.io", resource: "resourceslices"},
		{verb: "list", group: "resource.k8s.io", resource: "devicetaintrules"},
		{verb: "list", group: "resource.k8s.io", resource: "deviceclasses"},
		{verb: "watch", group: "resource.k8s.io", resource: "resourceclaims"},
		// PreBind, Unreserve and PostFilter write claims as upstream's DynamicResources does.
		{verb: "update", group: "resource.k8s.io", resource: "resourceclaims", namespace: "default"},
		{verb: "update", group: "resource.k8s.io", resource: "resourceclaims", subresource: "status", namespace: "default"},
		{verb: "patch", group: "resource.k8s.io", resource: "resourceclaims", subresource: "status", namespace: "default"},
		{verb: "update", group: "resource.k8s.io", resource: "resourceclaims", subresource: "binding"},
		{verb: "patch", group: "resource.k8s.io", resource: "resourceclaims", subresource: "binding"},
		{verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: controlplane.SchedulerNamespace, name: "sextant-scheduler"},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: controlplane.SchedulerNamespace, name: "sextant-scheduler"},
	}
	denied := []access{
		{verb: "get", resource: "secrets", namespace: "default", name: "anything"},
		{verb: "list", resource: "secrets"},
		{verb: "list", resource: "configmaps", namespace: "default"},
		{verb: "create", resource: "pods", namespace: "default"},
		{verb: "update", resource: "pods", namespace: "default"},
		{verb: "update", resource: "nodes"},
		{verb: "delete", resource: "nodes"},
		{verb: "patch", resource: "nodes", subresource: "status"},
		{verb: "create", resource: "pods", subresource: "eviction", namespace: "default"},
		// Claims are written, never created or deleted; slices and classes are the drivers'.
		{verb: "create", group: "resource.k8s.io", resource: "resourceclaims", namespace: "default"},
		{verb: "delete", group: "resource.k8s.io", resource: "resourceclaims", namespace: "default"},
		{verb: "update", group: "resource.k8s.io", resource: "resourceslices"},
		{verb: "update", group: "resource.k8s.io", resource: "deviceclasses"},
		{verb: "update", resource: "pods", subresource: "finalizers", namespace: "default"},
		// Only its own lease: not the default scheduler's.
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system", name: "kube-scheduler"},
		{verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: controlplane.SchedulerNamespace, name: "other"},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
		{verb: "impersonate", resource: "serviceaccounts", namespace: "default"},
	}
	check := func(a access) bool {
		t.Helper()
		review, err := cp.Admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   controlplane.SchedulerUser,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + controlplane.SchedulerNamespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
					Namespace: a.namespace, Name: a.name,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview %+v: %v", a, err)
		}
		return review.Status.Allowed
	}
	for _, a := range allowed {
		if !check(a) {
			t.Errorf("the scheduler needs %+v and is denied it", a)
		}
	}
	for _, a := range denied {
		if check(a) {
			t.Errorf("the scheduler is allowed %+v, which it does not need", a)
		}
	}

	// And with its own token, through the front door.
	client, err := kubernetes.NewForConfig(cp.SchedulerConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets(controlplane.SchedulerNamespace).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing secrets with the scheduler's token: want Forbidden, got %v", err)
	}
	if _, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Errorf("listing pods with the scheduler's token: %v", err)
	}
}
