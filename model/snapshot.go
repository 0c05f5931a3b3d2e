package model

import "slices"

// Snapshot returns a copy of the results that later changes to r do not
// reach: what observers and reports read while the run that owns r goes
// on. What a record only points to and is replaced, never changed, when
// it changes (outputs, values, diagnostics, a score) is shared, and so are
// the lists a run only appends to (the timeline, what was restored or left
// behind), clipped so that an append to either copy cannot reach the
// other.
func (r *Results) Snapshot() *Results {
	cp := *r
	cp.Scenarios = make([]*ScenarioResult, len(r.Scenarios))
	for i, s := range r.Scenarios {
		cp.Scenarios[i] = s.Snapshot()
	}
	cp.Outages = slices.Clip(r.Outages)
	return &cp
}

// Snapshot returns a copy of the scenario's record and its steps' that
// later changes to s do not reach.
func (s *ScenarioResult) Snapshot() *ScenarioResult {
	cp := s.Header()
	cp.Steps = make([]*StepResult, len(s.Steps))
	for i, st := range s.Steps {
		cp.Steps[i] = st.Snapshot()
	}
	return cp
}

// Header returns a copy of the scenario's own record, its steps' records
// shared with s: the cheap part of a snapshot, for a change to one step.
func (s *ScenarioResult) Header() *ScenarioResult {
	cp := *s
	cp.Timeline = slices.Clip(s.Timeline)
	cp.Restored = slices.Clip(s.Restored)
	cp.Removed = slices.Clip(s.Removed)
	cp.LeftBehind = slices.Clip(s.LeftBehind)
	if s.Attempts != nil {
		cp.Attempts = make([]*ScenarioResult, len(s.Attempts))
		for i, a := range s.Attempts {
			cp.Attempts[i] = a.Snapshot()
		}
	}
	return &cp
}

// Snapshot returns a copy of the step's record that later changes to st
// do not reach.
func (st *StepResult) Snapshot() *StepResult {
	cp := *st
	cp.Events = slices.Clip(st.Events)
	return &cp
}
