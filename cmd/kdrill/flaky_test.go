package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// TestRetriedScenariosAreReportedFlakyEverywhere runs, on the local
// cluster, a scenario that fails its first attempt and passes its second,
// one that fails every attempt, and two that share a lock, under
// --retries and --parallel; every output must tell the flaky one from the
// failing one, and the locked ones must not overlap.
func TestRetriedScenariosAreReportedFlakyEverywhere(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Connect(t)
	dir := t.TempDir()
	mark := filepath.Join(dir, "first-attempt-done")
	scenario := func(name, spec string) string {
		return writeFile(t, dir, name+".yaml", "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: "+name+"}\nspec:\n"+spec)
	}
	files := []string{
		scenario("once", fmt.Sprintf(`  steps:
  - name: marker
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: marker}}}
  - name: first attempt fails
    exec:
      readOnly: true
      command: [sh, -c, 'test -e %s || { touch %s; echo "the first attempt fails" >&2; exit 1; }']
`, mark, mark)),
		scenario("always", `  retries: 1
  steps:
  - name: never
    timeout: 1s
    assert: {expr: "1 == 2"}
`),
		scenario("locked-a", "  lock: shared-thing\n  steps:\n  - {name: hold, sleep: {duration: 1500ms}}\n"),
		scenario("locked-b", "  lock: shared-thing\n  steps:\n  - {name: hold, sleep: {duration: 1500ms}}\n"),
	}
	reportDir := filepath.Join(dir, "report")
	args := append([]string{"run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, "--parallel", "4", "--retries", "2"}, files...)
	code, stdout, stderr := kdrill(t, args...)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (one scenario fails every attempt)\n%s\n%s", code, exitFailed, stdout, stderr)
	}
	for _, want := range []string{
		"once FAILED", "(attempt 1; running it again in a fresh namespace)",
		"once PASSED", "FLAKY: passed on attempt 2 after 1 failure",
		"always FAILED", "(attempt 2, the last)",
		"1 flaky (passed on a retry)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("console lacks %q:\n%s", want, stdout)
		}
	}

	res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*model.ScenarioResult{}
	for _, s := range res.Scenarios {
		byName[s.Name] = s
	}
	once, always := byName["once"], byName["always"]
	if once == nil || always == nil || len(res.Scenarios) != 4 {
		t.Fatalf("%d scenarios in results.json", len(res.Scenarios))
	}
	if once.Outcome != model.Passed || !once.Flaky || once.Attempt != 2 || len(once.Attempts) != 1 || once.Digest == "" {
		t.Fatalf("results.json: once %s (%s) flaky=%v attempt %d with %d earlier, digest %q\n%s", once.Outcome, once.Error, once.Flaky, once.Attempt, len(once.Attempts), once.Digest, stdout)
	}
	first := once.Attempts[0]
	if first.Outcome != model.Failed || !strings.Contains(first.Error, "the first attempt fails") || first.Namespace == once.Namespace {
		t.Errorf("the first attempt: %s %q in %s (the second in %s)", first.Outcome, first.Error, first.Namespace, once.Namespace)
	}
	for _, ns := range []string{first.Namespace, once.Namespace} {
		if n, err := c.Typed.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil && n.DeletionTimestamp == nil {
			t.Errorf("namespace %s of an attempt was left behind", ns)
		}
	}
	if always.Outcome != model.Failed || always.Flaky || always.Attempt != 2 || len(always.Attempts) != 1 {
		t.Errorf("results.json: always %s flaky=%v attempt %d with %d earlier; want failed after 2 attempts (its own retries: 1)", always.Outcome, always.Flaky, always.Attempt, len(always.Attempts))
	}
	a, b := byName["locked-a"], byName["locked-b"]
	if a.StartedAt.Before(b.FinishedAt) && b.StartedAt.Before(a.FinishedAt) {
		t.Errorf("scenarios sharing a lock overlapped: %s–%s and %s–%s", a.StartedAt, a.FinishedAt, b.StartedAt, b.FinishedAt)
	}

	// JUnit, as a JUnit library reads it: the flaky scenario's cases pass.
	suites, err := junit.IngestFile(filepath.Join(reportDir, reports.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		for _, tc := range s.Tests {
			want := junit.StatusPassed
			if s.Name == "always" {
				want = junit.StatusFailed
			}
			if tc.Status != want {
				t.Errorf("junit %s / %s: %s, want %s", s.Name, tc.Name, tc.Status, want)
			}
		}
	}
	// And the reruns in Maven Surefire's elements, which CI servers read.
	raw, _ := os.ReadFile(filepath.Join(reportDir, reports.JUnitFile))
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name  string `xml:"name,attr"`
				Flaky []struct {
					Message string `xml:"message,attr"`
				} `xml:"flakyFailure"`
				Rerun []struct {
					Message string `xml:"message,attr"`
				} `xml:"rerunFailure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range doc.Suites {
		for _, tc := range s.Cases {
			for _, f := range tc.Flaky {
				got[s.Name+"/"+tc.Name+" flaky"] = f.Message
			}
			for _, f := range tc.Rerun {
				got[s.Name+"/"+tc.Name+" rerun"] = f.Message
			}
		}
	}
	if m := got["once/first attempt fails flaky"]; !strings.HasPrefix(m, "attempt 1: ") || len(got) != 2 || !strings.HasPrefix(got["always/never rerun"], "attempt 1: ") {
		t.Errorf("junit reruns: %v; want a flakyFailure on once's exec step and a rerunFailure on always's assert", got)
	}

	html, _ := os.ReadFile(filepath.Join(reportDir, "report.html"))
	for _, want := range []string{`<span class="badge flaky"`, "attempt 1: failed"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
