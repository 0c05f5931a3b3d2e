package reports_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// Outages and what a run left behind reach every rendering: the console's
// end of run, JUnit (a property, and an error case CI counts), report.html.
func TestOutagesAndLeftoversAreReported(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sr := &model.ScenarioResult{
		Name: "drill", Outcome: model.Errored, StartedAt: start, FinishedAt: start.Add(time.Minute),
		LeftBehind: []string{"namespace kdrill-drill-abcde not deleted: the server answered 503"},
		Error:      "left behind: namespace kdrill-drill-abcde not deleted",
	}
	res := &model.Results{
		Kind: model.ResultsKind, Outcome: model.Errored, StartedAt: start, FinishedAt: start.Add(time.Minute),
		Scenarios: []*model.ScenarioResult{sr},
		Outages: []model.Outage{{
			Start: start.Add(10 * time.Second), End: start.Add(15 * time.Second), Seconds: 5,
			Error: "connection refused", Steps: []string{"poisson kills"},
		}},
	}
	var console bytes.Buffer
	c := reports.NewConsole(&console, false, false, false)
	c.Observe(model.ScenarioFinished, res, sr, nil)
	c.Observe(model.RunFinished, res, nil, nil)
	var junit bytes.Buffer
	if err := reports.WriteJUnit(&junit, res); err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := reports.WriteHTML(&html, res); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		console.String(): {"left behind: namespace kdrill-drill-abcde", "control plane unavailable", "for 5.0s; steps that waited: poisson kills"},
		junit.String():   {`name="outage"`, `type="leftBehind"`, `name="cleanup"`},
		html.String():    {"Control plane outages", "poisson kills", "left behind"},
	} {
		for _, w := range want {
			if !strings.Contains(name, w) {
				t.Errorf("lacks %q:\n%s", w, name)
			}
		}
	}
}
