package main

import (
	"fmt"
	"sync/atomic"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// abandon is what a run does when a second signal ends it before its
// cleanup: every namespace it made and had not yet removed is named
// (console and results.json, as leftBehind), and results.json is written
// with the run marked interrupted. kdrill leftovers removes them later.
func (o *RunOptions) abandon(resultsPath string) {
	shown := o.results.Load()
	if shown == nil {
		return
	}
	// The observers' last snapshot of the run, copied: the run may still
	// be going when the second signal comes.
	res := shown.Snapshot()
	var left []string
	res.Interrupted = true
	res.Outcome = model.Cancelled
	for _, sr := range res.Scenarios {
		if sr.NamespaceCreated && sr.FinishedAt.IsZero() && !sr.NamespaceKept {
			what := "namespace " + sr.Namespace + " not deleted: the run was stopped before its cleanup"
			sr.LeftBehind = append(sr.LeftBehind, what)
			left = append(left, what)
		}
	}
	for _, l := range left {
		fmt.Fprintf(o.Stdout, "left behind: %s (kdrill leftovers removes it)\n", l)
	}
	if resultsPath != "" && !o.DryRun {
		if err := reports.WriteJSON(resultsPath, res); err != nil {
			fmt.Fprintf(o.Stderr, "kdrill: not written: %s: %v\n", resultsPath, err)
		}
	}
}

// resultsTap keeps the observers' last snapshot of the run where abandon
// finds it.
type resultsTap struct {
	p *atomic.Pointer[model.Results]
}

func (t resultsTap) Observe(_ model.Event, r *model.Results, _ *model.ScenarioResult, _ *model.StepResult) {
	t.p.Store(r)
}
