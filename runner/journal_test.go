package runner

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kdrill/kdrill/model"
)

// seen is an observer that keeps what it was given and notes any call
// made while another was still going.
type seen struct {
	mu       sync.Mutex
	inside   atomic.Int32
	overlaps int
	changes  []seenChange
}

type seenChange struct {
	ev model.Event
	r  *model.Results
	s  *model.ScenarioResult
	st *model.StepResult
}

func (o *seen) Observe(ev model.Event, r *model.Results, s *model.ScenarioResult, st *model.StepResult) {
	if o.inside.Add(1) > 1 {
		o.overlaps++
	}
	defer o.inside.Add(-1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes = append(o.changes, seenChange{ev, r, s, st})
}

func TestJournalShowsSnapshotsLaterChangesDoNotReach(t *testing.T) {
	step := &model.StepResult{Name: "ready", Outcome: model.Skipped}
	other := &model.StepResult{Name: "other", Outcome: model.Skipped}
	sr := &model.ScenarioResult{Name: "web", Steps: []*model.StepResult{step, other}}
	live := &model.Results{Scenarios: []*model.ScenarioResult{sr}}
	o := &seen{}
	j := newJournal(live, []model.Observer{o})

	j.update(func() { step.Outcome, sr.Outcome = model.Running, model.Running })
	j.publish(model.StepStarted, sr, step)
	j.update(func() {
		step.Outcome, step.Error = model.Failed, "no"
		sr.Timeline = append(sr.Timeline, model.TimelineEvent{Kind: "kill"})
	})
	j.publish(model.StepFinished, sr, step)
	j.update(func() { sr.Outcome = model.Failed })
	j.publish(model.RunFinished, nil, nil)
	final := j.close()

	if len(o.changes) != 3 {
		t.Fatalf("observed %d changes, want 3", len(o.changes))
	}
	started, finished := o.changes[0], o.changes[1]
	if started.st.Outcome != model.Running || started.st.Error != "" || len(started.s.Timeline) != 0 {
		t.Errorf("the step-started snapshot changed after it was shown: %+v, timeline %v", started.st, started.s.Timeline)
	}
	if started.st == step || started.s == sr || started.r == live {
		t.Error("an observer was given the run's own records, not a snapshot")
	}
	if started.r.Scenarios[0] != started.s || started.s.Steps[0] != started.st {
		t.Error("s and st are not r's records of the scenario and step")
	}
	if finished.st.Outcome != model.Failed || len(finished.s.Timeline) != 1 || finished.s.Outcome != model.Running {
		t.Errorf("step-finished snapshot: step %s, timeline %d, scenario %s", finished.st.Outcome, len(finished.s.Timeline), finished.s.Outcome)
	}
	if finished.s.Steps[1] != started.s.Steps[1] {
		t.Error("a step that did not change was copied again: a change costs the step, not the scenario")
	}
	if final != o.changes[2].r || final.Scenarios[0].Outcome != model.Failed {
		t.Errorf("close returned %p with outcome %s, not the last snapshot shown", final, final.Scenarios[0].Outcome)
	}
	// An append to the snapshot cannot reach the run's records.
	final.Scenarios[0].Timeline = append(final.Scenarios[0].Timeline, model.TimelineEvent{Kind: "node"})
	if len(sr.Timeline) != 1 {
		t.Errorf("an append to a snapshot's timeline reached the run's: %v", sr.Timeline)
	}
}

func TestJournalObserversOneAtATimeInOrder(t *testing.T) {
	live := &model.Results{}
	var scenarios []*model.ScenarioResult
	for i := range 8 {
		sr := &model.ScenarioResult{Name: fmt.Sprint(i), Steps: []*model.StepResult{{Name: "s"}}}
		scenarios = append(scenarios, sr)
		live.Scenarios = append(live.Scenarios, sr)
	}
	o := &seen{}
	j := newJournal(live, []model.Observer{o})
	var wg sync.WaitGroup
	for _, sr := range scenarios {
		wg.Go(func() {
			for n := range 50 {
				j.update(func() { sr.Steps[0].Progress = map[string]any{"n": n} })
				j.publish(model.StepProgress, sr, sr.Steps[0])
			}
		})
	}
	wg.Wait()
	j.flush()
	o.mu.Lock()
	got := len(o.changes)
	o.mu.Unlock()
	if got != 400 {
		t.Errorf("flush returned with %d of 400 changes observed", got)
	}
	j.close()
	if o.overlaps > 0 {
		t.Errorf("an observer was called %d times while a call was going on", o.overlaps)
	}
	// Each scenario's changes arrive in the order they were made.
	last := map[string]int{}
	for _, c := range o.changes {
		n := c.st.Progress["n"].(int)
		if prev, ok := last[c.s.Name]; ok && n != prev+1 {
			t.Fatalf("scenario %s: change %d shown after %d", c.s.Name, n, prev)
		}
		last[c.s.Name] = n
	}
}
