package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

func sample() *model.Results {
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	return &model.Results{
		APIVersion: model.APIVersion, Kind: model.ResultsKind, FormatVersion: model.ResultsVersion,
		StartedAt: start, FinishedAt: start.Add(3 * time.Second), Outcome: model.Failed,
		Scenarios: []*model.ScenarioResult{{
			Name: "demo", File: "demo.yaml", Namespace: "kdrill-demo-x", Seed: 7, Outcome: model.Failed,
			StartedAt: start, FinishedAt: start.Add(3 * time.Second), DurationSeconds: 3,
			Vars: map[string]any{"replicas": float64(3)},
			Steps: []*model.StepResult{
				{Index: 0, Phase: "steps", Name: "deploy", Kind: "apply", Outcome: model.Passed, DurationSeconds: 0.25},
				{
					Index: 1, Phase: "steps", Name: "available", Kind: "assert", Outcome: model.Failed, DurationSeconds: 2,
					Error: "expected object.x == 1; it did not hold", Expression: "object.x == 1", Values: map[string]any{"object.x": float64(0)},
				},
				{Index: 0, Phase: "finally", Name: "cleanup", Kind: "delete", Outcome: model.Passed, DurationSeconds: 0.01},
			},
		}},
	}
}

func TestJSONRoundTripAndAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", reports.ResultsFile)
	want := sample()
	if err := reports.WriteJSON(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := reports.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(model.Results{}), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".mu"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left beside results.json: %v", entries)
	}
}

func TestReadJSONRejectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "{not json",
		"other.json":   `{"kind": "Something"}`,
		"future.json":  `{"kind": "Results", "formatVersion": 99}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := reports.ReadJSON(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want an error naming the file", name, err)
		}
	}
}

func TestConsoleShowsStepsAndFailures(t *testing.T) {
	r := sample()
	var buf bytes.Buffer
	c := &reports.Console{W: &buf}
	s := r.Scenarios[0]
	c.Observe(model.ScenarioStarted, r, s, nil)
	for _, st := range s.Steps {
		c.Observe(model.StepFinished, r, s, st)
	}
	c.Observe(model.ScenarioFinished, r, s, nil)
	c.Observe(model.RunFinished, r, nil, nil)
	want := `▶ demo (demo.yaml) in namespace kdrill-demo-x, seed 7
  ✓ deploy [apply] 250ms
  ✗ available [assert] 2s
      expected object.x == 1; it did not hold
  ✓ finally: cleanup [delete] 10ms
✗ demo FAILED in 3s

1 scenario(s): 1 failed
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

func TestMergeShards(t *testing.T) {
	a, b := sample(), sample()
	a.Scenarios[0].Name, a.Scenarios[0].Outcome = "shard-1", model.Passed
	b.Scenarios[0].Name = "shard-2"
	b.StartedAt = a.StartedAt.Add(-time.Minute)
	b.FinishedAt = a.FinishedAt.Add(time.Minute)
	m := reports.Merge([]*model.Results{a, b})
	if len(m.Scenarios) != 2 || m.Scenarios[0].Name != "shard-1" || m.Scenarios[1].Name != "shard-2" {
		t.Errorf("scenarios %v", m.Scenarios)
	}
	if !m.StartedAt.Equal(b.StartedAt) || !m.FinishedAt.Equal(b.FinishedAt) || m.Outcome != model.Failed {
		t.Errorf("merged %s..%s %s", m.StartedAt, m.FinishedAt, m.Outcome)
	}
}
