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
)

// Observer follows a run as it happens: the console printer and the
// results.json writer are observers. s and st may be nil for run events.
type Observer interface {
	Observe(ev Event, r *Results, s *ScenarioResult, st *StepResult)
}
