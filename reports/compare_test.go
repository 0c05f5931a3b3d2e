package reports_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

func chaosRun(p95 time.Duration, minAvailable int, duration float64) *model.Results {
	r := sample()
	s := r.Scenarios[0]
	s.Outcome, s.DurationSeconds = model.Passed, duration
	for _, st := range s.Steps {
		st.Outcome, st.Error = model.Passed, ""
	}
	out := &model.MonitorOutput{MinAvailable: minAvailable, Recovery: model.Recovery{P95: model.Duration{Duration: p95}}}
	s.Steps = append(s.Steps, &model.StepResult{Name: "availability", Kind: "monitor", Outcome: model.Passed, Output: out})
	return r
}

func TestCompareFindsRegressions(t *testing.T) {
	base := chaosRun(2*time.Second, 480, 30)
	for _, tc := range []struct {
		name    string
		current *model.Results
		want    []string // regressed metrics
	}{
		{"same", chaosRun(2*time.Second, 480, 30), nil},
		{"within tolerance", chaosRun(2300*time.Millisecond, 470, 35), nil},
		{"slower recovery", chaosRun(3*time.Second, 480, 30), []string{"steps[availability].recovery.p95"}},
		{"lower availability", chaosRun(2*time.Second, 300, 30), []string{"steps[availability].minAvailable"}},
		{"much longer", chaosRun(2*time.Second, 480, 60), []string{"duration"}},
	} {
		var got []string
		for _, ch := range reports.Compare(base, tc.current, reports.DefaultTolerance) {
			if ch.Regressed {
				got = append(got, ch.Baseline.Name)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: regressions %v, want %v", tc.name, got, tc.want)
		}
	}

	failed := chaosRun(2*time.Second, 480, 30)
	failed.Scenarios[0].Outcome = model.Failed
	failed.Scenarios[0].Steps[3].Outcome = model.Failed
	var buf bytes.Buffer
	n := reports.WriteComparison(&buf, reports.Compare(base, failed, reports.DefaultTolerance))
	if n == 0 || !strings.Contains(buf.String(), "passed") || !strings.Contains(buf.String(), "missing") {
		t.Errorf("a failed scenario and its lost measures must be regressions:\n%s", buf.String())
	}
	gone := chaosRun(time.Second, 480, 30)
	gone.Scenarios[0].Name = "renamed"
	buf.Reset()
	if n := reports.WriteComparison(&buf, reports.Compare(base, gone, reports.DefaultTolerance)); n != 1 {
		t.Errorf("a scenario missing from the current run is one regression, got %d:\n%s", n, buf.String())
	}
}

func TestScenarioTolerancesOverrideTheDefaults(t *testing.T) {
	ptr := func(f float64) *float64 { return &f }
	base := chaosRun(2*time.Second, 480, 30)
	// 2.3s is within 20 % + 250ms, but this scenario allows only 5 % on
	// recovery; its duration may double; minAvailable is not compared.
	current := chaosRun(2300*time.Millisecond, 100, 55)
	current.Scenarios[0].Tolerances = map[string]model.Tolerance{
		"steps[availability].recovery.p95": {Relative: ptr(0.05), Slack: &model.Duration{}},
		"steps[*].recovery.*":              {Relative: ptr(5)},
		"duration":                         {Relative: ptr(1)},
		"steps[*].minAvailable":            {Ignore: true},
	}
	var got []string
	for _, ch := range reports.Compare(base, current, reports.DefaultTolerance) {
		if ch.Baseline.Name == "steps[availability].minAvailable" {
			t.Error("an ignored metric was compared")
		}
		if ch.Regressed {
			got = append(got, ch.Baseline.Name)
		}
	}
	if strings.Join(got, ",") != "steps[availability].recovery.p95" {
		t.Errorf("regressions %v, want only the recovery p95 (the exact name beats the pattern)", got)
	}
}
