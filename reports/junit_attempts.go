package reports

import (
	"fmt"

	"github.com/kdrill/kdrill/model"
)

// junitRerun is one earlier attempt's failure of a test case, in the form
// Maven Surefire writes for reruns, which CI servers read to tell a flaky
// test from a failing one.
type junitRerun struct {
	Message    string `xml:"message,attr"`
	Type       string `xml:"type,attr"`
	StackTrace string `xml:"stackTrace,omitempty"`
	SystemOut  string `xml:"system-out,omitempty"`
}

// addReruns adds to a step's case the failures of the same step in the
// scenario's earlier attempts.
func addReruns(c *junitCase, s *model.ScenarioResult, st *model.StepResult) {
	passed := st.Outcome == model.Passed
	for i, a := range s.Attempts {
		for _, earlier := range a.Steps {
			if earlier.Index != st.Index || earlier.Phase != st.Phase {
				continue
			}
			r := junitRerun{
				Message:    fmt.Sprintf("attempt %d: %s", i+1, problemMessage(earlier)),
				Type:       string(earlier.Outcome),
				StackTrace: problemText(earlier),
				SystemOut:  diagnosticsText(earlier.Diagnostics),
			}
			switch {
			case earlier.Outcome == model.Failed && passed:
				c.FlakyFailures = append(c.FlakyFailures, r)
			case earlier.Outcome == model.Failed:
				c.RerunFailures = append(c.RerunFailures, r)
			case (earlier.Outcome == model.Errored || earlier.Outcome == model.Cancelled) && passed:
				c.FlakyErrors = append(c.FlakyErrors, r)
			case earlier.Outcome == model.Errored || earlier.Outcome == model.Cancelled:
				c.RerunErrors = append(c.RerunErrors, r)
			}
		}
	}
}
