// Package e2e runs Sextant end to end against a real control plane (pkg/controlplane): etcd,
// kube-apiserver with RBAC, the engine and the sextant-scheduler binary under deploy/kubernetes's
// service account and configuration. One control plane serves the whole package; each test
// registers its own nodes and namespace and removes them when it ends, so tests run one at a time.
//
// The engine comes from SEXTANT_ENGINE_BINARY (deploy/dev.sh test sets it). etcd, kube-apiserver
// and sextant-scheduler come from SEXTANT_ETCD_BINARY, SEXTANT_APISERVER_BINARY and
// SEXTANT_SCHEDULER_BINARY, or are built here with `go build` (minutes the first time).
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sextant.io/plugin-shim/pkg/controlplane"
)

var cp *controlplane.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bins := controlplane.BinariesFromEnv()
	if bins.Engine == "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: SEXTANT_ENGINE_BINARY is not set (required in CI)")
			return 1
		}
		fmt.Fprintln(os.Stderr, "e2e: skipped: SEXTANT_ENGINE_BINARY is not set; set it to a built `sextant` (e.g. ../build/sextant)")
		return 0
	}
	root, err := controlplane.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sextant-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bins, err = controlplane.BuildBinaries(ctx, root, filepath.Join(dir, "bin"), bins)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	start := time.Now()
	cp, err = controlplane.Start(ctx, controlplane.Options{
		Dir: filepath.Join(dir, "cluster"), Binaries: bins, RepoRoot: root, SchedulerVerbosity: 2,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "e2e: %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: control plane:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: control plane up in %v (logs in %s)\n", time.Since(start).Round(time.Millisecond), cp.Dir())
	code := m.Run()
	cp.Stop()
	if code == 0 && os.Getenv("SEXTANT_E2E_KEEP") == "" {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "e2e: control plane logs kept in %s\n", cp.Dir())
	}
	return code
}
