package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// A failed step carries the namespace's events into results.json and
// report.html, escaped there: an event message is text from the cluster.
func TestFailedStepShowsTheNamespacesEventsEscaped(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "events.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: events}
spec:
  steps:
  - name: planted event
    apply:
      inline:
        apiVersion: v1
        kind: Event
        metadata: {name: planted}
        type: Warning
        reason: Planted
        message: '<script>alert("event")</script>'
        involvedObject: {kind: ConfigMap, name: missing, namespace: "${{ namespace }}"}
  - name: never true
    timeout: 1s
    assert:
      resource: {kind: ConfigMap, name: missing}
      expr: object != nil
`)
	reportDir := filepath.Join(dir, "report")
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, file)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Scenarios[0].Steps[1]
	if len(failed.Events) != 1 || failed.Events[0].Reason != "Planted" || failed.Events[0].Object != "ConfigMap/missing" {
		t.Fatalf("events of the failed step: %+v\n%s", failed.Events, stdout)
	}
	if len(res.Scenarios[0].Steps[0].Events) != 0 {
		t.Error("a passing step carries events")
	}
	page, err := os.ReadFile(filepath.Join(reportDir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), `<script>alert("event")`) {
		t.Error("the event's message reached report.html unescaped")
	}
	if !strings.Contains(string(page), "&lt;script&gt;alert(&#34;event&#34;)&lt;/script&gt;") || !strings.Contains(string(page), "Planted") {
		t.Error("report.html does not show the event")
	}
}
