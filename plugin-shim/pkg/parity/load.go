package parity

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	resourceapi "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// LoadFile reads a snapshot from a kubectl List (`kubectl get nodes,pods,priorityclasses,pdb,
// namespaces,services,rc,rs,statefulsets,deviceclasses,resourceslices,resourceclaims -A -o json`),
// or a single object. Items of other kinds are skipped and counted in skipped.
func LoadFile(path string) (*Snapshot, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	s, skipped, err := LoadList(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	s.Name = path
	return s, skipped, nil
}

// LoadList decodes a List (kind List, NodeList, PodList, ...) or one object with client-go's
// scheme, so every item is defaulted and typed as the API server serves it.
func LoadList(data []byte) (*Snapshot, int, error) {
	var head struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, 0, fmt.Errorf("not a JSON object: %w", err)
	}
	raw := [][]byte{data}
	if head.Items != nil || len(head.Kind) > 4 && head.Kind[len(head.Kind)-4:] == "List" {
		raw = raw[:0]
		for _, it := range head.Items {
			raw = append(raw, it)
		}
	}
	s := &Snapshot{}
	skipped := 0
	decoder := scheme.Codecs.UniversalDeserializer()
	for i, item := range raw {
		obj, _, err := decoder.Decode(withKind(item, head.Kind), nil, nil)
		if err != nil {
			if runtime.IsNotRegisteredError(err) {
				skipped++
				continue
			}
			return nil, 0, fmt.Errorf("item %d: %w", i, err)
		}
		switch o := obj.(type) {
		case *v1.Node:
			s.Nodes = append(s.Nodes, o)
		case *v1.Pod:
			s.Pods = append(s.Pods, o)
		case *schedulingv1.PriorityClass:
			s.PriorityClasses = append(s.PriorityClasses, o)
		case *policyv1.PodDisruptionBudget:
			s.PDBs = append(s.PDBs, o)
		case *v1.Namespace:
			s.Namespaces = append(s.Namespaces, o)
		case *v1.Service:
			s.Services = append(s.Services, o)
		case *v1.ReplicationController:
			s.ReplicationControllers = append(s.ReplicationControllers, o)
		case *appsv1.ReplicaSet:
			s.ReplicaSets = append(s.ReplicaSets, o)
		case *appsv1.StatefulSet:
			s.StatefulSets = append(s.StatefulSets, o)
		case *resourceapi.DeviceClass:
			s.DeviceClasses = append(s.DeviceClasses, o)
		case *resourceapi.ResourceSlice:
			s.ResourceSlices = append(s.ResourceSlices, o)
		case *resourceapi.ResourceClaim:
			s.ResourceClaims = append(s.ResourceClaims, o)
		default:
			skipped++
		}
	}
	return s, skipped, nil
}

// withKind fills in apiVersion and kind for items of a typed list (kubectl omits them in
// `kubectl get pods -o json` items only in rare versions; typed lists from the API do).
func withKind(item []byte, listKind string) []byte {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(item, &tm); err != nil || tm.Kind != "" {
		return item
	}
	kinds := map[string][2]string{
		"NodeList":                  {"v1", "Node"},
		"PodList":                   {"v1", "Pod"},
		"PriorityClassList":         {"scheduling.k8s.io/v1", "PriorityClass"},
		"PodDisruptionBudgetList":   {"policy/v1", "PodDisruptionBudget"},
		"NamespaceList":             {"v1", "Namespace"},
		"ServiceList":               {"v1", "Service"},
		"ReplicationControllerList": {"v1", "ReplicationController"},
		"ReplicaSetList":            {"apps/v1", "ReplicaSet"},
		"StatefulSetList":           {"apps/v1", "StatefulSet"},
		"DeviceClassList":           {"resource.k8s.io/v1", "DeviceClass"},
		"ResourceSliceList":         {"resource.k8s.io/v1", "ResourceSlice"},
		"ResourceClaimList":         {"resource.k8s.io/v1", "ResourceClaim"},
	}
	k, ok := kinds[listKind]
	if !ok {
		return item
	}
	var m map[string]any
	if err := json.Unmarshal(item, &m); err != nil {
		return item
	}
	m["apiVersion"], m["kind"] = k[0], k[1]
	out, err := json.Marshal(m)
	if err != nil {
		return item
	}
	return out
}

// WriteList writes s as a kubectl List (JSON) that LoadList reads back; the sweep uses it to save
// a mismatching seed for `sextant-parity`.
func WriteList(w io.Writer, s *Snapshot) error {
	var items []any
	for _, n := range s.Nodes {
		n = n.DeepCopy()
		n.APIVersion, n.Kind = "v1", "Node"
		items = append(items, n)
	}
	for _, p := range s.Pods {
		p = p.DeepCopy()
		p.APIVersion, p.Kind = "v1", "Pod"
		items = append(items, p)
	}
	for _, pc := range s.PriorityClasses {
		pc = pc.DeepCopy()
		pc.APIVersion, pc.Kind = "scheduling.k8s.io/v1", "PriorityClass"
		items = append(items, pc)
	}
	for _, pdb := range s.PDBs {
		pdb = pdb.DeepCopy()
		pdb.APIVersion, pdb.Kind = "policy/v1", "PodDisruptionBudget"
		items = append(items, pdb)
	}
	for _, o := range s.Namespaces {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "v1", "Namespace"
		items = append(items, o)
	}
	for _, o := range s.Services {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "v1", "Service"
		items = append(items, o)
	}
	for _, o := range s.ReplicationControllers {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "v1", "ReplicationController"
		items = append(items, o)
	}
	for _, o := range s.ReplicaSets {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "apps/v1", "ReplicaSet"
		items = append(items, o)
	}
	for _, o := range s.StatefulSets {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "apps/v1", "StatefulSet"
		items = append(items, o)
	}
	for _, o := range s.DeviceClasses {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "resource.k8s.io/v1", "DeviceClass"
		items = append(items, o)
	}
	for _, o := range s.ResourceSlices {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "resource.k8s.io/v1", "ResourceSlice"
		items = append(items, o)
	}
	for _, o := range s.ResourceClaims {
		o = o.DeepCopy()
		o.APIVersion, o.Kind = "resource.k8s.io/v1", "ResourceClaim"
		items = append(items, o)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}
