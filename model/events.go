package model

// Event says what changed in the results, as a run goes: what observers
// are told, and what the JSON event stream (-o json) writes.
type Event int

// The events observers receive.
const (
	ScenarioStarted Event = iota
	StepStarted
	StepFinished
	ScenarioFinished
	RunFinished
	// StepProgress says a running step recorded how far it has come, or
	// what its check last saw (at most every 200ms a step).
	StepProgress
)

// Observer follows a run as it happens: the console printer and the
// results.json writer are observers. Observers are called one at a time,
// in the order of the changes, from one goroutine, and each call gets a
// snapshot of the whole run (r) that no later change reaches: s is r's
// record of the scenario the event is about and st its step's (nil for
// run events). An observer may keep them.
type Observer interface {
	Observe(ev Event, r *Results, s *ScenarioResult, st *StepResult)
}
