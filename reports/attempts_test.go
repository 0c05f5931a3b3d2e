package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
)

// night is a run of one scenario with the given outcome (flaky: passed on
// a second attempt) and inputs.
func night(day int, outcome model.Outcome, flaky bool, digest string) *model.Results {
	s := &model.ScenarioResult{Name: "drill", Digest: digest, Outcome: outcome, Flaky: flaky, Vars: map[string]any{"replicas": 3}}
	if flaky {
		s.Attempt = 2
		s.Attempts = []*model.ScenarioResult{{Name: "drill", Outcome: model.Failed, Retried: true}}
	}
	return &model.Results{StartedAt: time.Date(2026, 12, day, 2, 0, 0, 0, time.UTC), Scenarios: []*model.ScenarioResult{s}}
}

func TestFlipsAreVerdictsThatChangeForTheSameInputs(t *testing.T) {
	runs := []*model.Results{
		night(1, model.Passed, false, "sha256:a"),
		night(2, model.Failed, false, "sha256:a"),
		night(3, model.Passed, true, "sha256:a"),
		// The file changed: a failure of new inputs is not a flip.
		night(4, model.Failed, false, "sha256:b"),
		night(5, model.Failed, false, "sha256:b"),
	}
	flips := Flips(runs)
	if len(flips) != 1 || flips[0] != (Flip{Scenario: "drill", Runs: 3, Passed: 1, Flaky: 1, Failed: 1}) {
		t.Fatalf("flips %+v; want one: drill, 3 runs of digest a", flips)
	}
	var b bytes.Buffer
	WriteFlips(&b, flips)
	if !strings.Contains(b.String(), "drill") || !strings.Contains(b.String(), "3 runs: 1 passed, 1 passed on a retry, 1 failed") {
		t.Errorf("flips table:\n%s", b.String())
	}
	if got := Flips(runs[3:]); len(got) != 0 {
		t.Errorf("two failures of the same inputs: %+v, want no flip", got)
	}
}

func TestCompareShowsBecomingFlakyApartFromRegressions(t *testing.T) {
	base, cur := night(1, model.Passed, false, "sha256:a"), night(2, model.Passed, true, "sha256:a")
	changes := Compare(base, cur, DefaultTolerance)
	var b bytes.Buffer
	if n := WriteComparison(&b, changes); n != 0 {
		t.Errorf("%d regressions; becoming flaky is not one:\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), "became flaky (passed on a retry; passed at once in the baseline): drill") {
		t.Errorf("comparison:\n%s", b.String())
	}
	// The other way round is no news.
	b.Reset()
	WriteComparison(&b, Compare(cur, base, DefaultTolerance))
	if strings.Contains(b.String(), "flaky") {
		t.Errorf("a flaky baseline and a clean pass now:\n%s", b.String())
	}
}

func TestConsoleSaysWhereAnAttemptStands(t *testing.T) {
	for _, tc := range []struct {
		s    model.ScenarioResult
		want string
	}{
		{model.ScenarioResult{Attempt: 1, Retried: true}, "(attempt 1; running it again in a fresh namespace)"},
		{model.ScenarioResult{Attempt: 3, Flaky: true, Attempts: make([]*model.ScenarioResult, 2)}, " — FLAKY: passed on attempt 3 after 2 failures"},
		{model.ScenarioResult{Attempt: 2, Attempts: make([]*model.ScenarioResult, 1)}, " (attempt 2, the last)"},
		{model.ScenarioResult{}, ""},
	} {
		if got := attemptNote(&tc.s); got != tc.want && !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}
