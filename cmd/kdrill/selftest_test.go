package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// Every shipped lab carries its reference solution and passes its own
// self-test: full marks for the solution, nothing for an empty namespace,
// in every run.
func TestShippedLabsPassTheirSelfTest(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	testcluster.RealNode(t)
	labs, _ := filepath.Glob("../../scenarios/labs/grade-*.yaml")
	if len(labs) < 4 {
		t.Fatalf("labs: %v", labs)
	}
	for _, lab := range labs {
		t.Run(filepath.Base(lab), func(t *testing.T) {
			code, out, errOut := kdrill(t, "grade", "--self-test", "--runs", "2", "--kubeconfig", kubeconfig, "--report-dir", t.TempDir(), lab)
			if code != 0 || !strings.Contains(out, "self-test PASSED") {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if strings.Contains(out, "not verified") {
				t.Errorf("a check was not verified on the local cluster:\n%s", out)
			}
		})
	}
}

// A lab whose check depends on when it runs fails its self-test, and the
// check at fault is named; so does one whose check cannot pass, and a lab
// with no solution is refused before anything is sent.
func TestSelfTestFindsChecksAtFault(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	writeFile(t, dir, "solution.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: production}\n")
	lab := writeFile(t, dir, "lab.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: timing-lab}
spec:
  lab:
    solution: [solution.yaml]
  stepTimeout: 900ms
  steps:
  - name: the settings exist
    points: 1
    hint: Create the settings ConfigMap.
    assert: {resource: {kind: ConfigMap, name: settings}, expr: object != nil}
  # The mistake under test: a check whose verdict depends on when it runs
  # (here the clock; in a real lab, a race with a controller).
  - name: the clock check
    points: 1
    hint: none
    assert: {expr: 'now().UnixMilli() % 2000 < 1000', holdFor: 400ms}
  - name: the mode is staging
    points: 1
    hint: The reference solution says production; this check is wrong.
    assert: {resource: {kind: ConfigMap, name: settings}, expr: 'object?.data?.mode == "staging"'}
`)
	reportDir := t.TempDir()
	code, out, errOut := kdrill(t, "grade", "--self-test", "--runs", "8", "--kubeconfig", kubeconfig, "--report-dir", reportDir, lab)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, out, errOut)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		for _, check := range []string{"the settings exist", "the clock check", "the mode is staging"} {
			if strings.Contains(l, check) && strings.Contains(l, "passed") {
				lines[check] = l
			}
		}
	}
	if l := lines["the settings exist"]; !strings.Contains(l, "✓") || !strings.Contains(l, "8/8 passed") {
		t.Errorf("a sound check: %q", l)
	}
	named := func(l string) bool {
		return strings.Contains(l, "depends on timing") || strings.Contains(l, "empty namespace")
	}
	if l := lines["the clock check"]; !strings.Contains(l, "✗") || !named(l) {
		t.Errorf("the timing-dependent check: %q", l)
	}
	if l := lines["the mode is staging"]; !strings.Contains(l, "✗") || !strings.Contains(l, "fails on the reference solution; found: object?.data?.mode = \"production\"") {
		t.Errorf("the wrong check: %q", l)
	}
	if !strings.Contains(out, "self-test FAILED: ") {
		t.Errorf("output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(reportDir, reports.ResultsFile)); err != nil {
		t.Errorf("results of the self-test: %v", err)
	}

	noSolution := writeFile(t, dir, "bare.yaml", "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: bare}\nspec:\n  lab: {}\n  steps:\n  - {name: a, points: 1, hint: h, assert: {expr: 'true'}}\n")
	code, out, errOut = kdrill(t, "grade", "--self-test", "--kubeconfig", kubeconfig, noSolution)
	if code != exitInvalid || !strings.Contains(errOut, "spec.lab.solution") {
		t.Errorf("a lab without a solution: exit %d\n%s\n%s", code, out, errOut)
	}
}
