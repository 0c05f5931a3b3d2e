package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// A failed step says why, on the real control plane: the cause line in
// the console, results.json, junit.xml and report.html, and the files under
// diagnostics/ in the report directory.
func TestFailuresSayWhy(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	for _, tc := range []struct {
		file, step, cause string
	}{
		{"unschedulable.yaml", "web is available", "node(s) didn't match Pod's node affinity/selector"},
		{"quota.yaml", "it runs", "cannot create pods: pods \"nolimits-"},
		{"quota.yaml", "it runs", "is forbidden: failed quota: compute: must specify limits.cpu for: app; limits.memory for: app"},
		{"no-endpoints.yaml", "web answers", "Service web selects no ready pod (selector app=absent: 0 pods match, none Ready)"},
		{"crash-loop.yaml", "stays available", "is crash-looping (3 restarts); it last exited 1 (Error)"},
		{"image-pull.yaml", "stays available", `cannot pull image registry.example/app:9: Back-off pulling image "registry.example/app:9": not found`},
		{"crash-loop.yaml", "stays available", `is crash-looping (3 restarts); it last exited 1 (Error); its last log line: panic: config key "database" is missing`},
	} {
		t.Run(tc.file+" "+tc.cause[:16], func(t *testing.T) {
			dir := t.TempDir()
			code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", dir, filepath.Join("testdata/diagnostics", tc.file))
			if code != exitFailed {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "likely cause: ") || !strings.Contains(stdout, tc.cause) {
				t.Errorf("the console lacks the cause %q:\n%s", tc.cause, stdout)
			}
			res, err := reports.ReadJSON(filepath.Join(dir, reports.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			st := stepResult(t, res, tc.step)
			d := st.Diagnostics
			if d == nil || !containsAny(d.Causes, tc.cause) {
				t.Fatalf("results.json: diagnostics %+v", d)
			}
			t.Logf("%s: collected %d files, %d bytes in %.3fs; causes: %s", tc.file, len(d.Files), d.Bytes, d.Seconds, strings.Join(d.Causes, " | "))
			for _, f := range d.Files {
				if _, err := os.Stat(filepath.Join(dir, d.Dir, f)); err != nil {
					t.Errorf("results.json names %s, not written: %v", f, err)
				}
			}
			if !containsAny(d.Files, "-describe.txt") {
				t.Errorf("no describe text among %v", d.Files)
			}
			for _, name := range []string{"junit.xml", "report.html"} {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				// Both escape what came from the cluster; the cause's start
				// is plain text.
				if !strings.Contains(string(data), "likely cause") {
					t.Errorf("%s does not show the likely cause", name)
				}
			}
		})
	}
}

func stepResult(t *testing.T, res *model.Results, name string) *model.StepResult {
	t.Helper()
	for _, s := range res.Scenarios {
		for _, st := range s.Steps {
			if st.Name == name {
				return st
			}
		}
	}
	t.Fatalf("no step %q", name)
	return nil
}

func containsAny(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// --keep-namespace on-failure leaves a failed scenario's namespace, says
// how to look at it and how to delete it, and still deletes a passing
// one's.
func TestKeepNamespaceOnFailure(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	admin := testcluster.Admin(t)
	for _, tc := range []struct {
		file string
		kept bool
	}{{"unschedulable.yaml", true}, {"passing.yaml", false}} {
		dir := t.TempDir()
		kdrill(t, "run", "--kubeconfig", kubeconfig, "--keep-namespace", "on-failure", "--report-dir", dir, filepath.Join("testdata/diagnostics", tc.file))
		res, err := reports.ReadJSON(filepath.Join(dir, reports.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		s := res.Scenarios[0]
		ns, err := admin.CoreV1().Namespaces().Get(context.Background(), s.Namespace, metav1.GetOptions{})
		exists := err == nil && ns.DeletionTimestamp == nil
		if s.NamespaceKept != tc.kept || exists != tc.kept {
			t.Errorf("%s: kept %v, namespace %s exists %v; want %v", tc.file, s.NamespaceKept, s.Namespace, exists, tc.kept)
		}
		if exists {
			t.Cleanup(func() {
				_ = admin.CoreV1().Namespaces().Delete(context.Background(), s.Namespace, metav1.DeleteOptions{})
			})
		}
	}
	dir := t.TempDir()
	code, stdout, _ := kdrill(t, "run", "--kubeconfig", kubeconfig, "--keep-namespace", "always", "--report-dir", dir, "testdata/diagnostics/passing.yaml")
	res, err := reports.ReadJSON(filepath.Join(dir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	ns := res.Scenarios[0].Namespace
	t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	if want := "kept for inspection: kubectl get all,events -n " + ns + "; when done: kubectl delete namespace " + ns; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, want %q in\n%s", code, want, stdout)
	}
	if code, _, stderr := kdrill(t, "run", "--keep-namespace", "sometimes", "testdata/diagnostics/passing.yaml"); code != exitInvalid || !strings.Contains(stderr, "want never, on-failure or always") {
		t.Errorf("a bad --keep-namespace: exit %d %s", code, stderr)
	}
}
