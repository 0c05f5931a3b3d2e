package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// An exec step's command reaches the run's cluster and namespace through
// the KUBECONFIG kdrill writes for it: here the command is kdrill itself,
// checking an object the scenario applied, through the real API server.
func TestExecCommandsUseTheRunsCluster(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	bin := buildKdrill(t)
	dir := t.TempDir()
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "outer"),
		"--set", "bin="+bin, "--set", "reports="+filepath.Join(dir, "inner"), "testdata/exec/kubeconfig.yaml")
	if code != 0 || !strings.Contains(stdout, "✓ a client reaches the cluster through KUBECONFIG") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A dry run lists the command and does not run it.
	code, stdout, stderr = kdrill(t, "run", "--dry-run", "--kubeconfig", kubeconfig, "--set", "bin=/nonexistent/kdrill", "testdata/exec/kubeconfig.yaml")
	if code != 0 || !strings.Contains(stdout, `would run script`) || !strings.Contains(stdout, "not run in a dry run") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
