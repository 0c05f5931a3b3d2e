package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// A run in GitHub Actions appends its Markdown summary to
// $GITHUB_STEP_SUMMARY: the outcome, a row per scenario, the failure with
// its message, and the metrics against the baseline, with the cluster's
// words escaped; --summary FILE writes it anywhere else.
func TestSummaryForGitHubJobs(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: good}
spec:
  steps:
  - name: nap
    sleep: {duration: 100ms}
`)
	bad := writeFile(t, dir, "bad.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  steps:
  - name: "a <b>bold</b> | claim"
    timeout: 1s
    assert: {expr: "1 == 2"}
`)
	code, out, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "base"), good)
	if code != 0 {
		t.Fatalf("baseline run: exit %d\n%s\n%s", code, out, errOut)
	}
	step := filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(step, []byte("earlier step's summary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", step)
	code, out, errOut = kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "now"),
		"--baseline", filepath.Join(dir, "base", "results.json"), good, bad)
	if code != 1 {
		t.Fatalf("a failing run: exit %d\n%s\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(step)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"earlier step's summary\n## ❌ kdrill: FAILED",
		"2 scenario(s): 1 passed, 1 failed",
		"| ✅ | good | passed |",
		"| ❌ | bad | failed |",
		"### Failures",
		`a \<b\>bold\</b\> \| claim`,
		"### Against the baseline",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<b>") {
		t.Errorf("markup from the scenario came through:\n%s", text)
	}
	own := filepath.Join(dir, "own.md")
	if code, _, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(dir, "again"), "--summary", own, good); code != 0 {
		t.Fatalf("--summary: exit %d: %s", code, errOut)
	}
	if data, err := os.ReadFile(own); err != nil || !strings.HasPrefix(string(data), "## ✅ kdrill: PASSED") {
		t.Errorf("--summary file (%v):\n%s", err, data)
	}
}
