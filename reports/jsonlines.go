package reports

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/kdrill/kdrill/model"
)

// JSONLines is a model.Observer that streams the run as JSON, one event a
// line, for other tools (kdrill run --output json).
type JSONLines struct {
	W io.Writer
	// Now stamps the events (default time.Now).
	Now func() time.Time
}

// LineEvent is one line of kdrill run --output json.
type LineEvent struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"` // scenarioStarted, stepStarted, stepFinished, scenarioFinished, runFinished
	// Scenario, Namespace and Seed name the scenario (not on runFinished).
	Scenario  string `json:"scenario,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Seed      int64  `json:"seed,omitempty"`
	// Step, Phase and Kind name the step, for step events.
	Step  string      `json:"step,omitempty"`
	Phase model.Phase `json:"phase,omitempty"`
	Kind  string      `json:"kind,omitempty"`
	// Outcome, DurationSeconds and Error say how it ended.
	Outcome         model.Outcome `json:"outcome,omitempty"`
	DurationSeconds float64       `json:"durationSeconds,omitempty"`
	Error           string        `json:"error,omitempty"`
	// Expression and Values are a check's condition and what it saw.
	Expression string         `json:"expression,omitempty"`
	Values     map[string]any `json:"values,omitempty"`
	// Score is a lab's, on scenarioFinished.
	Score *model.Score `json:"score,omitempty"`
	// Counts are the scenarios by outcome, on runFinished.
	Counts map[model.Outcome]int `json:"counts,omitempty"`
}

var eventNames = map[model.Event]string{
	model.ScenarioStarted:  "scenarioStarted",
	model.StepStarted:      "stepStarted",
	model.StepFinished:     "stepFinished",
	model.ScenarioFinished: "scenarioFinished",
	model.RunFinished:      "runFinished",
}

// Observe writes the event as one JSON line.
func (j *JSONLines) Observe(ev model.Event, r *model.Results, s *model.ScenarioResult, st *model.StepResult) {
	if ev == model.StepProgress {
		return
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	line := LineEvent{Time: now().UTC(), Event: eventNames[ev]}
	if s != nil {
		line.Scenario, line.Namespace, line.Seed = s.Name, s.Namespace, s.Seed
	}
	switch ev {
	case model.StepStarted, model.StepFinished:
		line.Step, line.Phase, line.Kind = st.Name, st.Phase, st.Kind
		if ev == model.StepFinished {
			line.Outcome, line.DurationSeconds, line.Error = st.Outcome, st.DurationSeconds, st.Error
			line.Expression, line.Values = st.Expression, st.Values
		}
	case model.ScenarioFinished:
		line.Outcome, line.DurationSeconds, line.Error, line.Score = s.Outcome, s.DurationSeconds, s.Error, s.Score
	case model.RunFinished:
		line.Outcome = r.Outcome
		line.Counts = map[model.Outcome]int{}
		for _, sc := range r.Scenarios {
			line.Counts[sc.Outcome]++
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // for people reading the stream too
	if err := enc.Encode(line); err != nil {
		buf.Reset()
		_ = enc.Encode(LineEvent{Time: line.Time, Event: line.Event, Scenario: line.Scenario, Error: "kdrill: " + err.Error()})
	}
	_, _ = j.W.Write(buf.Bytes())
}
