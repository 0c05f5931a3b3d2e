package runner

import (
	"slices"
	"sync"

	"github.com/kdrill/kdrill/model"
)

// journal holds a run's records and tells its observers of every change.
// The records are the run's own: the run's goroutines change them under
// the journal's lock (update). Observers never see them: each change is
// published as a snapshot of the whole run, copied on write (the scenario
// and step that changed are copied, the rest shared with the snapshot
// before), and handed to the observers in order by one goroutine, so an
// observer that writes a file or prints a line neither holds up the steps
// nor reads a record a step is changing.
type journal struct {
	mu   sync.Mutex
	live *model.Results
	// shown is the last snapshot published, and shownOf each scenario's
	// record in it.
	shown   *model.Results
	shownOf map[*model.ScenarioResult]*model.ScenarioResult

	observers []model.Observer
	queue     chan change
	done      chan struct{}
}

// change is one published change, or a request to say when every change
// before it has been observed (flushed).
type change struct {
	ev      model.Event
	r       *model.Results
	s       *model.ScenarioResult
	st      *model.StepResult
	flushed chan struct{}
}

// queueLen is how many changes may wait for slow observers before the
// run's goroutines wait for them.
const queueLen = 256

func newJournal(live *model.Results, observers []model.Observer) *journal {
	j := &journal{live: live, shownOf: map[*model.ScenarioResult]*model.ScenarioResult{}, observers: observers}
	if len(observers) > 0 {
		j.queue, j.done = make(chan change, queueLen), make(chan struct{})
		go j.dispatch()
	}
	return j
}

func (j *journal) dispatch() {
	defer close(j.done)
	for c := range j.queue {
		if c.flushed != nil {
			close(c.flushed)
			continue
		}
		for _, o := range j.observers {
			o.Observe(c.ev, c.r, c.s, c.st)
		}
	}
}

// update changes the run's records.
func (j *journal) update(fn func()) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn()
}

// read reads the run's records.
func (j *journal) read(fn func()) { j.update(fn) }

// publish tells the observers of a change to scenario s (nil: the run) and
// its step st (nil: the scenario).
func (j *journal) publish(ev model.Event, s *model.ScenarioResult, st *model.StepResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.queue == nil {
		return
	}
	next := *j.live
	next.Outages = slices.Clip(j.live.Outages)
	next.Scenarios = make([]*model.ScenarioResult, len(j.live.Scenarios))
	for i, l := range j.live.Scenarios {
		view := j.shownOf[l]
		switch {
		case view == nil || ev == model.RunFinished || (l == s && st == nil):
			view = l.Snapshot()
		case l == s:
			// One step changed: a copy of the scenario's own record, its
			// steps' shared with the last snapshot but for this one.
			steps := view.Steps
			view = l.Header()
			view.Steps = slices.Clone(steps)
			if k := slices.Index(l.Steps, st); k >= 0 {
				view.Steps[k] = st.Snapshot()
			}
		default:
			next.Scenarios[i] = view
			continue
		}
		next.Scenarios[i], j.shownOf[l] = view, view
	}
	j.shown = &next
	c := change{ev: ev, r: &next}
	if s != nil {
		if k := slices.Index(j.live.Scenarios, s); k >= 0 {
			c.s = next.Scenarios[k]
		} else {
			// No longer among the run's scenarios: a retried attempt's
			// record, say.
			c.s = s.Snapshot()
		}
		if st != nil {
			if k := slices.Index(s.Steps, st); k >= 0 {
				c.st = c.s.Steps[k]
			}
		}
	}
	j.queue <- c
}

// flush returns once every change published so far has been observed.
func (j *journal) flush() {
	if j.queue == nil {
		return
	}
	c := change{flushed: make(chan struct{})}
	j.mu.Lock()
	j.queue <- c
	j.mu.Unlock()
	<-c.flushed
}

// close waits for the observers to see every change and stops telling
// them; it returns the last snapshot.
func (j *journal) close() *model.Results {
	j.mu.Lock()
	shown := j.shown
	if shown == nil {
		shown = j.live.Snapshot()
	}
	if j.queue != nil {
		close(j.queue)
	}
	j.mu.Unlock()
	if j.done != nil {
		<-j.done
	}
	return shown
}
