package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// slowScenario writes a scenario that holds its namespace for a while.
func slowScenario(t *testing.T, dir, name string) string {
	return writeFile(t, dir, name+".yaml", fmt.Sprintf(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: %s}
spec:
  steps:
  - name: marker
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: marker}}}
  - name: hold
    sleep: {duration: 1500ms}
`, name))
}

func TestParallelRunsSideBySideInOwnNamespaces(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Connect(t)
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"par-a", "par-b", "par-c", "par-d"} {
		files = append(files, slowScenario(t, dir, n))
	}
	reportDir := filepath.Join(dir, "report")
	args := append([]string{"run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, "--parallel", "4", "--output", "json"}, files...)
	code, stdout, stderr := kdrill(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 4 {
		t.Fatalf("%d scenario results", len(res.Scenarios))
	}
	namespaces := map[string]bool{}
	var lastStart, firstEnd time.Time
	for i, s := range res.Scenarios {
		if want := []string{"par-a", "par-b", "par-c", "par-d"}[i]; s.Name != want || s.Outcome != model.Passed {
			t.Errorf("scenario %d: %s %s, want %s passed (results keep the files' order)", i, s.Name, s.Outcome, want)
		}
		namespaces[s.Namespace] = true
		if s.StartedAt.After(lastStart) {
			lastStart = s.StartedAt
		}
		if firstEnd.IsZero() || s.FinishedAt.Before(firstEnd) {
			firstEnd = s.FinishedAt
		}
	}
	if len(namespaces) != 4 {
		t.Errorf("namespaces %v: want one per scenario", namespaces)
	}
	if !lastStart.Before(firstEnd) {
		t.Errorf("the last scenario started at %s, after the first finished at %s: they did not run side by side", lastStart, firstEnd)
	}
	for ns := range namespaces {
		n, err := c.Typed.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err == nil && n.DeletionTimestamp == nil {
			t.Errorf("namespace %s was left behind", ns)
		}
	}

	// --output json: every stdout line is an event; paths go to stderr.
	events := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var ev reports.LineEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		events[ev.Event]++
		if ev.Event == "runFinished" && (ev.Outcome != model.Passed || ev.Counts[model.Passed] != 4) {
			t.Errorf("runFinished: %+v", ev)
		}
	}
	if events["scenarioStarted"] != 4 || events["stepFinished"] != 8 || events["scenarioFinished"] != 4 || events["runFinished"] != 1 {
		t.Errorf("events %v", events)
	}
	if !strings.Contains(stderr, "results: "+reportDir) {
		t.Errorf("stderr lacks the results path:\n%s", stderr)
	}
}

func TestParallelRefusesASharedNamespace(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := kdrill(t, "run", "--parallel", "2", "-n", "shared", slowScenario(t, dir, "x"))
	if code != exitInvalid || !strings.Contains(stderr, "does not go with -n") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "kdrill-report")); err == nil {
		t.Error("a refused run wrote a report")
	}
}
