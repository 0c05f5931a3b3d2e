package reports

import (
	"fmt"

	"github.com/kdrill/kdrill/model"
)

// attemptNote says where a retried scenario's attempt stands, for the
// line that ends it: "" for a scenario that may not be retried.
func attemptNote(s *model.ScenarioResult) string {
	switch {
	case s.Retried:
		return fmt.Sprintf(" (attempt %d; running it again in a fresh namespace)", s.Attempt)
	case s.Flaky:
		return fmt.Sprintf(" — FLAKY: passed on attempt %d after %s", s.Attempt, failureCount(len(s.Attempts)))
	case len(s.Attempts) > 0:
		return fmt.Sprintf(" (attempt %d, the last)", s.Attempt)
	}
	return ""
}

func failureCount(n int) string {
	if n == 1 {
		return "1 failure"
	}
	return fmt.Sprintf("%d failures", n)
}

// flakyCount counts the run's scenarios that passed on a later attempt.
func flakyCount(r *model.Results) int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Flaky {
			n++
		}
	}
	return n
}
