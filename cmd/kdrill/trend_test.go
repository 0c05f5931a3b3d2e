package main

import (
	"encoding/csv"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// night is one nightly run: a chaos scenario's recovery p95 and duration,
// and a second scenario that failed on night 3 and so lacks its metrics.
func night(t *testing.T, dir string, n int, p95 time.Duration) string {
	start := time.Date(2026, 11, 1+n, 2, 0, 0, 0, time.UTC)
	mon := &model.MonitorOutput{MinAvailable: 480 - n, Recovery: model.Recovery{P95: model.Duration{Duration: p95}}}
	other := model.Passed
	if n == 3 {
		other = model.Failed
	}
	r := &model.Results{
		APIVersion: model.APIVersion, Kind: model.ResultsKind, FormatVersion: model.ResultsVersion,
		StartedAt: start, FinishedAt: start.Add(time.Minute), Outcome: model.Passed,
		Scenarios: []*model.ScenarioResult{
			{Name: "chaos", Outcome: model.Passed, StartedAt: start, DurationSeconds: 60 + float64(n), Steps: []*model.StepResult{
				{Name: "availability", Kind: "monitor", Outcome: model.Passed, Output: mon},
			}},
			{Name: "deploy", Outcome: other, StartedAt: start, DurationSeconds: 20, Steps: []*model.StepResult{
				{Name: "update", Kind: "rollout", Outcome: other, DurationSeconds: 5},
			}},
		},
	}
	path := filepath.Join(dir, fmt.Sprintf("night-%d", n), "results.json")
	if err := reports.WriteJSON(path, r); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportTrend(t *testing.T) {
	dir := t.TempDir()
	// Given out of order: the trend sorts runs by when they started.
	files := []string{night(t, dir, 2, 2200*time.Millisecond), night(t, dir, 1, 2*time.Second), night(t, dir, 3, 3*time.Second)}
	out := filepath.Join(dir, "trend")
	if keep := os.Getenv("KDRILL_KEEP_TREND"); keep != "" {
		out = keep
	}
	code, stdout, stderr := kdrill(t, append([]string{"report", "trend", "--out", out, "-m", "duration", "-m", "steps[*].recovery.p95", "-m", "steps[update].*"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"chaos                    steps[availability].recovery.p95             3       2.000s       3.000s       2.000s       3.000s     +50%",
		"deploy                   steps[update].duration                       2",
		"wrote: " + filepath.Join(out, "trend-duration.png"),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "trend.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// 4 series (chaos duration and p95, deploy duration and update) x 3 runs.
	if len(rows) != 1+12 {
		t.Fatalf("trend.csv has %d rows:\n%v", len(rows), rows)
	}
	for _, r := range rows {
		if r[1] == "steps[update].duration" && strings.HasPrefix(r[2], "2026-11-04") && r[3] != "" {
			t.Errorf("the night deploy failed has a duration: %v", r)
		}
		if r[0] == "chaos" && r[1] == "duration" && strings.HasPrefix(r[2], "2026-11-02") && r[3] != "61" {
			t.Errorf("night 1's chaos duration: %v", r)
		}
	}
	for _, name := range []string{"trend-duration.png", "trend-steps_availability_.recovery.p95.png"} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}
	if code, _, stderr := kdrill(t, "report", "trend", "--out", out, "-m", "nothing*", files[0]); code != exitInvalid || !strings.Contains(stderr, "no metric") {
		t.Errorf("an unmatched metric: exit %d, %s", code, stderr)
	}
}
