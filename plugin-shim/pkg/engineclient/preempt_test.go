package engineclient

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

// TestPreemptAsEvaluate: Preempt carries the pod, the last sequence sent, the epoch and the default
// spread selector, and its answer is checked as Evaluate's is.
func TestPreemptAsEvaluate(t *testing.T) {
	svc := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), svc}})
	p := pod("ns", "p", "")
	p.Labels = map[string]string{"app": "web"}
	p.Status.Conditions = []v1.PodCondition{{Type: v1.DisruptionTarget, Status: v1.ConditionTrue, Reason: v1.PodReasonPreemptionByScheduler}}
	h.engine.With(func(f *enginetest.FakeEngine) {
		f.PreemptFunc = func(req *sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error) {
			return &sextantv1.PreemptResponse{Epoch: req.Epoch, AppliedSequence: req.MinSequence, NominatedNode: "n1",
				Victims: []*sextantv1.Victim{{Namespace: "ns", Name: "v", Uid: "uid-v"}}}, nil
		}
	})
	resp, err := h.client.Preempt(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.NominatedNode != "n1" || len(resp.Victims) != 1 {
		t.Errorf("Preempt = %v", resp)
	}
	var req *sextantv1.PreemptRequest
	h.engine.With(func(f *enginetest.FakeEngine) { req = f.Preempts[len(f.Preempts)-1] })
	_, epoch, sent := h.client.Synced()
	if req.Epoch != epoch || req.MinSequence != sent || req.Pod.GetName() != "p" || !req.Pod.GetTerminatingByPreemption() ||
		req.DefaultSpreadSelector.GetMatchLabels()["app"] != "web" {
		t.Errorf("request = %v, want epoch %s, min_sequence %d, the pod and its default selector", req, epoch, sent)
	}

	for _, tc := range []struct {
		name string
		fn   func(*sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error)
		want error
	}{
		{"another epoch", func(req *sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error) {
			return &sextantv1.PreemptResponse{Epoch: "other", AppliedSequence: req.MinSequence}, nil
		}, ErrEpochChanged},
		{"stale", func(req *sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error) {
			return &sextantv1.PreemptResponse{Epoch: req.Epoch, AppliedSequence: req.MinSequence - 1}, nil
		}, ErrStale},
		{"engine error", func(*sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error) {
			return nil, status.Error(codes.Internal, "boom")
		}, ErrEngine},
	} {
		h.waitSynced(tc.name)
		h.engine.With(func(f *enginetest.FakeEngine) { f.PreemptFunc = tc.fn })
		if _, err := h.client.Preempt(context.Background(), p); !errors.Is(err, tc.want) {
			t.Errorf("%s: Preempt error = %v, want %v", tc.name, err, tc.want)
		}
	}
}
