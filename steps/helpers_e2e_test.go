package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/internal/testfiles"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// runScenario runs a scenario written inline against the local cluster, in a
// namespace of the test's own, and returns its result.
func runScenario(t *testing.T, c *kube.Cluster, ns, body string, files map[string]string) *model.ScenarioResult {
	t.Helper()
	return runScenarioCtx(context.Background(), t, c, ns, body, files)
}

func runScenarioCtx(ctx context.Context, t *testing.T, c *kube.Cluster, ns, body string, files map[string]string) *model.ScenarioResult {
	t.Helper()
	dir := t.TempDir()
	testfiles.Write(t, dir, files)
	file := filepath.Join(dir, "scenario.yaml")
	text := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: " + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "}\n" + body
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(file, steps.Registry)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	res := runner.Run(ctx, []*scenario.Scenario{s}, runner.Options{Cluster: c, Namespace: ns, CleanupTimeout: 10 * time.Second})
	if len(res.Scenarios) != 1 {
		t.Fatalf("want 1 scenario result, got %d", len(res.Scenarios))
	}
	return res.Scenarios[0]
}

func stepNamed(t *testing.T, sr *model.ScenarioResult, name string) *model.StepResult {
	t.Helper()
	for _, st := range sr.Steps {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no step %q in %+v", name, sr.Steps)
	return nil
}

func wantOutcome(t *testing.T, st *model.StepResult, want model.Outcome, errContains ...string) {
	t.Helper()
	if st.Outcome != want {
		t.Fatalf("step %q: outcome %s, want %s (error: %s)", st.Name, st.Outcome, want, st.Error)
	}
	for _, s := range errContains {
		if !strings.Contains(st.Error, s) {
			t.Errorf("step %q: error %q does not contain %q", st.Name, st.Error, s)
		}
	}
}

// pause waits d, or less if the test ends first.
func pause(t *testing.T, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.Context().Done():
	case <-timer.C:
	}
}

// testdata reads a manifest the end-to-end tests share from testdata/.
func testdata(name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return string(data)
}
