package reports_test

import (
	"bytes"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

func TestPrerenderDrawsEachFinishedScenarioOnceAsTheRunGoes(t *testing.T) {
	r := monitorResults()
	// The suite ran the scenario a second time: its files must differ.
	second := r.Scenarios[0].Snapshot()
	second.Attempt = 2
	r.Scenarios = append(r.Scenarios, second)
	want, err := reports.AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}

	p := reports.NewPrerender()
	p.Observe(model.ScenarioFinished, r, r.Scenarios[0].Snapshot(), nil)
	got, err := p.Charts(r.Snapshot()) // the run's last snapshot: other copies
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d charts, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].File != want[i].File || got[i].Title != want[i].Title || !bytes.Equal(got[i].PNG, want[i].PNG) {
			t.Errorf("chart %d: %s %q, want %s %q", i, got[i].File, got[i].Title, want[i].File, want[i].Title)
		}
	}

	// A scenario's charts drawn when it finished are the ones written: a
	// last snapshot whose copy of it shows no monitor still gets its chart.
	p = reports.NewPrerender()
	p.Observe(model.ScenarioFinished, r, r.Scenarios[0].Snapshot(), nil)
	last := r.Snapshot()
	last.Scenarios[0].Steps = last.Scenarios[0].Steps[:len(last.Scenarios[0].Steps)-1]
	got, err = p.Charts(last)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || !bytes.Equal(got[0].PNG, want[0].PNG) {
		t.Errorf("the first scenario's charts were drawn again at the end: %d charts", len(got))
	}
}
