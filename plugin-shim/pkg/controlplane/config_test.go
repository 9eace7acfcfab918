package controlplane

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The in-cluster configuration (deploy/kubernetes/configmap.yaml) is the reference configuration
// (plugin-shim/config/sextant-scheduler-config.yaml) with only the engine address and the lease's
// namespace changed. A plugin enabled in one and not the other (preemption once was) fails here.
func TestDeployConfigMatchesReferenceConfig(t *testing.T) {
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeManifests(filepath.Join(root, "deploy", "kubernetes", "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var deployed map[string]any
	for _, obj := range objects {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &deployed); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "plugin-shim", "config", "sextant-scheduler-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var reference map[string]any
	if err := yaml.Unmarshal(data, &reference); err != nil {
		t.Fatal(err)
	}
	normalise := func(config map[string]any) {
		if election, ok := config["leaderElection"].(map[string]any); ok {
			delete(election, "resourceNamespace")
		}
		for _, profile := range config["profiles"].([]any) {
			for _, pc := range profile.(map[string]any)["pluginConfig"].([]any) {
				if args, ok := pc.(map[string]any)["args"].(map[string]any); ok {
					delete(args, "engineAddress")
				}
			}
		}
	}
	if deployed == nil {
		t.Fatal("deploy/kubernetes/configmap.yaml has no config.yaml")
	}
	normalise(deployed)
	normalise(reference)
	if diff := cmp.Diff(reference, deployed); diff != "" {
		t.Errorf("deploy/kubernetes/configmap.yaml differs from plugin-shim/config/sextant-scheduler-config.yaml beyond the engine address and lease namespace (-reference +deployed):\n%s", diff)
	}
}
