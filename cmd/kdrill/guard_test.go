package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countingServer stands in for an API server and counts what reaches it.
func countingServer(t *testing.T) (url string, requests *atomic.Int64) {
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "not a real API server", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

func kubeconfigFor(t *testing.T, dir, server, context string) string {
	return writeFile(t, dir, "kubeconfig-"+context, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: %s, context: {cluster: c, user: u}}]
current-context: %s
`, server, context, context))
}

const killer = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: killer}
spec:
  contexts: [staging-*]
  steps:
  - name: look
    assert: {expr: "true"}
  - name: kill
    kill: {selector: app=web, count: 1}
`

func TestDestructiveScenariosRefuseUnknownContexts(t *testing.T) {
	server, requests := countingServer(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "killer.yaml", killer)
	prod := kubeconfigFor(t, dir, server, "prod-east")

	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", prod, "--report-dir", filepath.Join(dir, "r"), file)
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitInvalid, stdout, stderr)
	}
	for _, want := range []string{file + `:9: steps[1] "kill": this scenario disrupts (kill disrupts)`, `context "prod-east" is not one it may touch`, "--allow-context prod-east"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the cluster before the refusal", n)
	}

	// Allowed by the flag and within spec.contexts: the run goes ahead (and
	// finds this fake API server unreachable: exit 3). spec.contexts narrows
	// what the command line and the local clusters allow, never widens it.
	for _, tc := range []struct{ context, flag, refusal string }{
		{"staging-eu", "", "pass --allow-context staging-eu"},
		{"prod-east", "prod-*", `its spec.contexts (staging-*) does not list the kubeconfig context "prod-east"`},
		{"kind-dev", "", `does not list the kubeconfig context "kind-dev"`},
		{"staging-eu", "staging-*", ""},
	} {
		if tc.refusal == "" && requests.Load() != 0 {
			t.Errorf("%d requests reached the cluster before a refusal", requests.Load())
		}
		args := []string{"run", "--kubeconfig", kubeconfigFor(t, dir, server, tc.context), "--report-dir", filepath.Join(dir, "r-"+tc.context+tc.flag)}
		if tc.flag != "" {
			args = append(args, "--allow-context", tc.flag)
		}
		code, _, stderr := kdrill(t, append(args, file)...)
		switch {
		case tc.refusal == "" && code != exitInfra:
			t.Errorf("context %s (flag %q): exit %d, want 3\n%s", tc.context, tc.flag, code, stderr)
		case tc.refusal != "" && (code != exitInvalid || !strings.Contains(stderr, tc.refusal)):
			t.Errorf("context %s (flag %q): exit %d, want 2 with %q\n%s", tc.context, tc.flag, code, tc.refusal, stderr)
		}
	}
}

// Loading makes no request anywhere: validate and run of a scenario whose
// kustomization names a remote base, a URL and a local server refuse it
// (exit 2, at its line) with no request to that server, to git's host, or
// to the cluster.
func TestLoadingMakesNoOutboundRequest(t *testing.T) {
	var fetched atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n")
	}))
	t.Cleanup(remote.Close)
	server, requests := countingServer(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "k"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "k"), "kustomization.yaml", "resources:\n- cm.yaml\n- "+remote.URL+"/more.yaml\n- github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6\n")
	writeFile(t, filepath.Join(dir, "k"), "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	file := writeFile(t, dir, "s.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: remote}
spec:
  steps:
  - name: deploy
    apply: {kustomize: k}
`)
	kubeconfig := kubeconfigFor(t, dir, server, "kind-dev")
	for _, args := range [][]string{
		{"validate", file},
		{"run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "r"), file},
	} {
		code, _, stderr := kdrill(t, args...)
		if code != exitInvalid || !strings.Contains(stderr, file+":7:") || !strings.Contains(stderr, "is remote") {
			t.Errorf("%s: exit %d, want 2 naming %s:7 and the remote resource\n%s", args[0], code, file, stderr)
		}
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("%d requests reached the remote resource's server while loading", n)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the cluster before the refusal", n)
	}
}
