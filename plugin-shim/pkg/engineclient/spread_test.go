package engineclient

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient/enginetest"
)

func requirement(t *testing.T, key string, op selection.Operator, values ...string) labels.Requirement {
	t.Helper()
	r, err := labels.NewRequirement(key, op, values)
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

func TestSelectorToProto(t *testing.T) {
	expr := func(key, op string, values ...string) *sextantv1.SelectorRequirement {
		return &sextantv1.SelectorRequirement{Key: key, Operator: op, Values: values}
	}
	tests := []struct {
		name    string
		sel     labels.Selector
		want    *sextantv1.LabelSelector
		wantErr bool
	}{
		{name: "nil", sel: nil},
		{name: "empty: no default constraints", sel: labels.NewSelector()},
		{name: "everything is empty too", sel: labels.Everything()},
		{name: "set", sel: labels.Set{"app": "web", "tier": "fe"}.AsSelector(),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}},
		{name: "every operator", sel: labels.NewSelector().Add(
			requirement(t, "a", selection.Equals, "1"),
			requirement(t, "b", selection.DoubleEquals, "2"),
			requirement(t, "c", selection.NotEquals, "3"),
			requirement(t, "d", selection.In, "y", "x"),
			requirement(t, "e", selection.NotIn, "z"),
			requirement(t, "f", selection.Exists),
			requirement(t, "g", selection.DoesNotExist)),
			want: &sextantv1.LabelSelector{
				MatchLabels: map[string]string{"a": "1", "b": "2"},
				MatchExpressions: []*sextantv1.SelectorRequirement{
					expr("c", "NotIn", "3"), expr("d", "In", "x", "y"), expr("e", "NotIn", "z"),
					expr("f", "Exists"), expr("g", "DoesNotExist"),
				},
			}},
		{name: "two values for one key match nothing, as upstream", sel: labels.NewSelector().Add(
			requirement(t, "app", selection.Equals, "web"), requirement(t, "app", selection.Equals, "db")),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []*sextantv1.SelectorRequirement{expr("app", "In", "db")}}},
		{name: "the same pair twice", sel: labels.NewSelector().Add(
			requirement(t, "app", selection.Equals, "web"), requirement(t, "app", selection.Equals, "web")),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		{name: "gt has no LabelSelector form", sel: labels.NewSelector().Add(requirement(t, "n", selection.GreaterThan, "1")), wantErr: true},
		{name: "lt has no LabelSelector form", sel: labels.NewSelector().Add(requirement(t, "n", selection.LessThan, "1")), wantErr: true},
		{name: "nothing has no LabelSelector form", sel: labels.Nothing(), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SelectorToProto(tc.sel)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSelectorToProtoMatchesAsUpstream checks that the converted selector, read back as
// metav1.LabelSelector, matches exactly the label sets the original matches.
func TestSelectorToProtoMatchesAsUpstream(t *testing.T) {
	sel := labels.NewSelector().Add(
		requirement(t, "app", selection.Equals, "web"),
		requirement(t, "app", selection.Equals, "db"),
		requirement(t, "tier", selection.NotEquals, "be"),
		requirement(t, "zone", selection.In, "a", "b"),
		requirement(t, "x", selection.Exists),
		requirement(t, "y", selection.DoesNotExist))
	sel2 := labels.NewSelector().Add(
		requirement(t, "app", selection.Equals, "web"),
		requirement(t, "tier", selection.NotEquals, "be"),
		requirement(t, "zone", selection.NotIn, "c"))
	var sets []labels.Set
	for _, app := range []string{"", "web", "db"} {
		for _, tier := range []string{"", "be", "fe"} {
			for _, zone := range []string{"", "a", "c"} {
				for _, x := range []bool{false, true} {
					for _, y := range []bool{false, true} {
						s := labels.Set{}
						for k, v := range map[string]string{"app": app, "tier": tier, "zone": zone} {
							if v != "" {
								s[k] = v
							}
						}
						if x {
							s["x"] = "1"
						}
						if y {
							s["y"] = ""
						}
						sets = append(sets, s)
					}
				}
			}
		}
	}
	for i, original := range []labels.Selector{sel, sel2} {
		converted, err := SelectorToProto(original)
		if err != nil {
			t.Fatal(err)
		}
		ls := &metav1.LabelSelector{MatchLabels: converted.MatchLabels}
		for _, r := range converted.MatchExpressions {
			ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{Key: r.Key, Operator: metav1.LabelSelectorOperator(r.Operator), Values: r.Values})
		}
		back, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			t.Fatal(err)
		}
		matched := 0
		for _, s := range sets {
			if original.Matches(s) != back.Matches(s) {
				t.Errorf("%q on %v: original %v, converted %q %v", original, s, original.Matches(s), back, back.Matches(s))
			}
			if original.Matches(s) {
				matched++
			}
		}
		if i == 1 && matched == 0 {
			t.Error("the satisfiable selector matched no label set: the check proves nothing")
		}
	}
}

func TestDefaultSpreadSelector(t *testing.T) {
	controller := func(apiVersion, kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, Controller: ptrTo(true)}}
	}
	objects := []runtime.Object{
		&v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		&v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-fe"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web", "tier": "fe"}}},
		&v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "headless"}}, // nil selector matches nothing
		&v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web", "other": "x"}}},
		&v1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rc"}, Spec: v1.ReplicationControllerSpec{Selector: map[string]string{"rc": "1"}}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rs"}, Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{"pod-template-hash": "abc"},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "track", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"canary"}}},
		}}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ss"}, Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "db", Operator: metav1.LabelSelectorOpExists}},
		}}},
	}
	cs := fake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	l := SpreadListers{
		Services: factory.Core().V1().Services().Lister(), ReplicationControllers: factory.Core().V1().ReplicationControllers().Lister(),
		ReplicaSets: factory.Apps().V1().ReplicaSets().Lister(), StatefulSets: factory.Apps().V1().StatefulSets().Lister(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); factory.Shutdown() }()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	expr := func(key, op string, values ...string) *sextantv1.SelectorRequirement {
		return &sextantv1.SelectorRequirement{Key: key, Operator: op, Values: values}
	}
	tests := []struct {
		name   string
		labels map[string]string
		owners []metav1.OwnerReference
		own    bool // the pod has a constraint of its own
		want   *sextantv1.LabelSelector
	}{
		{name: "no service, no owner: none", labels: map[string]string{"app": "db"}},
		{name: "services merged", labels: map[string]string{"app": "web", "tier": "fe"},
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}},
		{name: "own constraints: none", labels: map[string]string{"app": "web"}, own: true},
		{name: "replication controller", labels: map[string]string{"app": "web"}, owners: controller("v1", "ReplicationController", "rc"),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web", "rc": "1"}}},
		{name: "replica set", labels: map[string]string{"app": "web"}, owners: controller("apps/v1", "ReplicaSet", "rs"),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "abc"},
				MatchExpressions: []*sextantv1.SelectorRequirement{expr("track", "NotIn", "canary")}}},
		{name: "stateful set only", labels: map[string]string{"db": "1"}, owners: controller("apps/v1", "StatefulSet", "ss"),
			want: &sextantv1.LabelSelector{MatchExpressions: []*sextantv1.SelectorRequirement{expr("db", "Exists")}}},
		{name: "missing owner: the services alone", labels: map[string]string{"app": "web"}, owners: controller("apps/v1", "ReplicaSet", "gone"),
			want: &sextantv1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		{name: "unsupported owner", labels: map[string]string{"x": "1"}, owners: controller("batch/v1", "Job", "j")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("ns", "p", "")
			p.Labels, p.OwnerReferences = tc.labels, tc.owners
			if tc.own {
				p.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: v1.DoNotSchedule}}
			}
			got, err := DefaultSpreadSelector(p, l)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestEvaluateSendsDefaultSpreadSelector: the Sync loop's client computes the selector from the
// informers it registered (started by the factory like the others) and sends it with Evaluate.
func TestEvaluateSendsDefaultSpreadSelector(t *testing.T) {
	svc := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
	h := newHarness(t, harnessOptions{objects: []runtime.Object{node("n1"), svc}})
	p := pod("ns", "p", "")
	p.Labels = map[string]string{"app": "web"}
	if _, err := h.client.Evaluate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// A service added later is seen by the next Evaluate.
	svc2 := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web2"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web", "ver": "2"}}}
	if _, err := h.cs.CoreV1().Services("ns").Create(context.Background(), svc2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Labels["ver"] = "2"
	deadline := time.Now().Add(10 * time.Second)
	for {
		sel, err := DefaultSpreadSelector(p, h.client.spread)
		if err != nil {
			t.Fatal(err)
		}
		if len(sel.GetMatchLabels()) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := h.client.Evaluate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	other := pod("ns", "q", "")
	if _, err := h.client.Evaluate(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	h.engine.With(func(f *enginetest.FakeEngine) {
		want := []*sextantv1.LabelSelector{
			{MatchLabels: map[string]string{"app": "web"}},
			{MatchLabels: map[string]string{"app": "web", "ver": "2"}},
			nil,
		}
		var got []*sextantv1.LabelSelector
		for _, r := range f.Evals {
			got = append(got, r.DefaultSpreadSelector)
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("default_spread_selector per Evaluate (-want +got):\n%s", diff)
		}
	})
}
