package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kdrill/kdrill/runner"
)

// Console is a runner.Observer that prints one line per step as it
// finishes, and a summary line per scenario, for a person to follow.
type Console struct {
	W io.Writer
}

var marks = map[runner.Outcome]string{
	runner.Passed:    "✓",
	runner.Failed:    "✗",
	runner.Errored:   "!",
	runner.Cancelled: "⊘",
	runner.Skipped:   "-",
}

// Observe prints the event.
func (c *Console) Observe(ev runner.Event, r *runner.Results, s *runner.ScenarioResult, st *runner.StepResult) {
	switch ev {
	case runner.ScenarioStarted:
		fmt.Fprintf(c.W, "▶ %s (%s) in namespace %s, seed %d\n", s.Name, s.File, s.Namespace, s.Seed)
	case runner.StepFinished:
		phase := ""
		if st.Phase == "finally" {
			phase = "finally: "
		}
		fmt.Fprintf(c.W, "  %s %s%s [%s] %s\n", marks[st.Outcome], phase, st.Name, st.Kind, seconds(st.DurationSeconds))
		if st.Outcome != runner.Passed {
			for _, line := range strings.Split(st.Error, "\n") {
				fmt.Fprintf(c.W, "      %s\n", line)
			}
		}
		if cap, ok := capacityOf(st); ok {
			capacityTable(c.W, cap)
		}
	case runner.ScenarioFinished:
		fmt.Fprintf(c.W, "%s %s %s in %s\n", marks[s.Outcome], s.Name, strings.ToUpper(string(s.Outcome)), seconds(s.DurationSeconds))
		if s.Outcome != runner.Passed && s.Error != "" && !stepError(s) {
			fmt.Fprintf(c.W, "    %s\n", s.Error)
		}
		if sc := s.Score; sc != nil {
			fmt.Fprintf(c.W, "  score for %s: %d/%d (passing %d)\n", s.Namespace, sc.Earned, sc.Possible, sc.PassingScore)
			for _, ch := range sc.Checks {
				mark := marks[runner.Passed]
				if !ch.Passed {
					mark = marks[runner.Failed]
				}
				fmt.Fprintf(c.W, "    %s %-40s %d/%d", mark, ch.Step, ch.Earned, ch.Points)
				if ch.Hint != "" {
					fmt.Fprintf(c.W, "  hint: %s", ch.Hint)
				}
				fmt.Fprintln(c.W)
			}
		}
	case runner.RunFinished:
		counts := map[runner.Outcome]int{}
		for _, sc := range r.Scenarios {
			counts[sc.Outcome]++
			if sc.Outcome == runner.Errored && sc.StartedAt.IsZero() {
				fmt.Fprintf(c.W, "! %s: %s\n", sc.Name, sc.Error)
			}
		}
		var parts []string
		keys := make([]string, 0, len(counts))
		for o := range counts {
			keys = append(keys, string(o))
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%d %s", counts[runner.Outcome(k)], k))
		}
		fmt.Fprintf(c.W, "\n%d scenario(s): %s\n", len(r.Scenarios), strings.Join(parts, ", "))
	}
}

// stepError reports whether a failed step already printed the scenario's error.
func stepError(s *runner.ScenarioResult) bool {
	for _, st := range s.Steps {
		if st.Error != "" && strings.HasSuffix(s.Error, st.Error) {
			return true
		}
	}
	return false
}

func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
