package controlplane

import (
	"context"

	"github.com/go-logr/logr"
	"k8s.io/client-go/informers"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/resourceclaim"
)

// resourceClaimController runs upstream's resourceclaim controller, the part of
// kube-controller-manager that pods with ResourceClaimTemplates need: it creates each such pod's
// claim (owned by the pod), records its name in the pod's status.resourceClaimStatuses, and
// deletes or releases the claims of pods that are done. It runs as cluster admin until ctx ends.
func (c *ControlPlane) resourceClaimController(ctx context.Context) {
	ctx = klog.NewContext(ctx, logr.Discard()) // the test's output is the components' logs
	factory := informers.NewSharedInformerFactory(c.Admin, 0)
	ctrl, err := resourceclaim.NewController(klog.FromContext(ctx), c.Admin, factory.Core().V1().Pods(),
		factory.Scheduling().V1beta1().PodGroups(), factory.Resource().V1().ResourceClaims(),
		factory.Resource().V1().ResourceClaimTemplates())
	if err != nil {
		c.opts.Logf("resourceclaim controller: %v", err)
		return
	}
	factory.Start(ctx.Done())
	ctrl.Run(ctx, 2)
	factory.Shutdown()
}
