package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
