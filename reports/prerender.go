package reports

import (
	"runtime"
	"sync"
	"time"

	"github.com/kdrill/kdrill/model"
)

// Prerender is a model.Observer that draws each scenario's charts as soon
// as the scenario finishes, on goroutines of its own, while the other
// scenarios of a suite still run: the report written after the last one
// then only draws that one's. A scenario's record does not change once it
// has finished.
type Prerender struct {
	mu    sync.Mutex
	drawn map[chartKey]drawn
	queue chan *model.ScenarioResult
	idle  sync.WaitGroup
}

// chartKey names a finished scenario's record across the run's snapshots.
type chartKey struct {
	name              string
	attempt           int
	started, finished time.Time
}

type drawn struct {
	charts []Chart
	err    error
}

func keyOf(s *model.ScenarioResult) chartKey {
	return chartKey{name: s.Name, attempt: s.Attempt, started: s.StartedAt, finished: s.FinishedAt}
}

// NewPrerender starts a Prerender's drawing goroutines, one a core (the
// scenarios of a suite often finish together); Charts stops them.
func NewPrerender() *Prerender {
	p := &Prerender{drawn: map[chartKey]drawn{}, queue: make(chan *model.ScenarioResult, 64)}
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for s := range p.queue {
				charts, err := scenarioCharts(s)
				p.mu.Lock()
				p.drawn[keyOf(s)] = drawn{charts, err}
				p.mu.Unlock()
				p.idle.Done()
			}
		}()
	}
	return p
}

// Observe queues a finished scenario's charts to be drawn.
func (p *Prerender) Observe(ev model.Event, _ *model.Results, s *model.ScenarioResult, _ *model.StepResult) {
	if ev == model.ScenarioFinished && s != nil {
		p.idle.Add(1)
		p.queue <- s
	}
}

// Charts returns the run's charts, as AvailabilityCharts draws them: those
// drawn already, and the rest now. It waits for the drawing under way and
// stops the drawing goroutine.
func (p *Prerender) Charts(r *model.Results) ([]Chart, error) {
	p.idle.Wait()
	close(p.queue)
	return chartsOf(r, func(s *model.ScenarioResult) ([]Chart, error) {
		if d, ok := p.drawn[keyOf(s)]; ok {
			return d.charts, d.err
		}
		return scenarioCharts(s)
	})
}

// WriteRenderings is the package's WriteRenderings with the charts drawn
// as the run went.
func (p *Prerender) WriteRenderings(dir string, r *model.Results) ([]string, error) {
	charts, err := p.Charts(r)
	return writeRenderings(dir, r, charts, err)
}
