package runner

// Retries and locks: a failed scenario runs again in a fresh namespace, up
// to its retries, and one that passes on a later attempt is flaky; a
// scenario holding a lock runs alone among those naming it.

import (
	"context"
	"slices"
	"sync"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

// attempt is one run of a scenario that may be retried: its number (from
// 1), of how many it may have at most, and the failed attempts before it.
type attempt struct {
	n, of   int
	earlier []*model.ScenarioResult
}

// record enters the attempt's result in the run's, in the place of the
// attempt before it. Called under the results' lock.
func (a attempt) record(res *model.Results, sr *model.ScenarioResult) {
	if a.of > 1 {
		sr.Attempt = a.n
	}
	if len(a.earlier) == 0 {
		res.Scenarios = append(res.Scenarios, sr)
		return
	}
	prev := a.earlier[len(a.earlier)-1]
	// Each attempt holds the ones before it; only the last keeps them.
	prev.Attempts = nil
	sr.Attempts = slices.Clone(a.earlier)
	if i := slices.Index(res.Scenarios, prev); i >= 0 {
		res.Scenarios[i] = sr
		return
	}
	res.Scenarios = append(res.Scenarios, sr)
}

// judge says, once the attempt has ended, whether it is retried (it failed,
// as a verdict, not as infrastructure or an interrupt, in a namespace
// kdrill made, with attempts left) or whether the scenario was flaky.
// Called under the results' lock.
func (a attempt) judge(ctx context.Context, sr *model.ScenarioResult) {
	switch {
	case sr.Outcome == model.Failed && a.n < a.of && ctx.Err() == nil && sr.NamespaceCreated:
		sr.Retried = true
	case sr.Outcome == model.Passed && len(a.earlier) > 0:
		sr.Flaky = true
	}
}

// runAttempts runs the scenario, again after each failure while it has
// retries left, holding its lock throughout.
func (r *run) runAttempts(ctx context.Context, s *scenario.Scenario) *model.ScenarioResult {
	if m := r.locks[s.Spec.Lock]; m != nil {
		m.Lock()
		defer m.Unlock()
	}
	a := attempt{n: 1, of: 1 + r.retries(s)}
	for {
		sr := r.runScenario(ctx, s, a)
		retried := false
		r.scenarioRecord(sr).get(func(sr *model.ScenarioResult) { retried = sr.Retried })
		if !retried {
			return sr
		}
		a.earlier = append(a.earlier, sr)
		a.n++
	}
}

// retries is how many more attempts a failing scenario gets: its own
// spec.retries, else the run's, but none in a namespace it was given.
func (r *run) retries(s *scenario.Scenario) int {
	if s.Spec.Retries != nil {
		return *s.Spec.Retries
	}
	if s.Spec.Namespace != "" || r.opts.Namespace != "" {
		return 0
	}
	return r.opts.Retries
}

// locksOf makes one lock per spec.lock name the scenarios use.
func locksOf(scenarios []*scenario.Scenario) map[string]*sync.Mutex {
	locks := map[string]*sync.Mutex{}
	for _, s := range scenarios {
		if s.Spec.Lock != "" && locks[s.Spec.Lock] == nil {
			locks[s.Spec.Lock] = &sync.Mutex{}
		}
	}
	return locks
}
