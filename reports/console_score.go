package reports

import (
	"fmt"
	"strings"

	"github.com/kdrill/kdrill/model"
)

// printScore prints a lab's grade under its scenario: each check's points,
// and for a failed one what it found, its likely cause and its hint.
func (c *Console) printScore(s *model.ScenarioResult) {
	if sc := s.Score; sc != nil {
		notGraded := ""
		if sc.NotGraded > 0 {
			notGraded = fmt.Sprintf("; %d points not graded on this cluster", sc.NotGraded)
		}
		if sc.Ungraded > 0 {
			notGraded += fmt.Sprintf("; %d points not graded this time: the cluster failed, grade again", sc.Ungraded)
		}
		c.printf("  score for %s: %d/%d (passing %d%s)\n", s.Namespace, sc.Earned, sc.Possible, sc.PassingScore, notGraded)
		for _, ch := range sc.Checks {
			outcome := model.Passed
			switch {
			case ch.NotApplicable != "":
				c.printf("    %s %-40s not graded: %s\n", c.mark(model.NotApplicable), ch.Step, ch.NotApplicable)
				continue
			case ch.Ungraded != "":
				c.printf("    %s %-40s not graded this time: %s\n", c.mark(model.Errored), ch.Step, strings.SplitN(ch.Ungraded, "\n", 2)[0])
				continue
			case !ch.Passed:
				outcome = model.Failed
			}
			line := fmt.Sprintf("    %s %-40s %d/%d", c.mark(outcome), ch.Step, ch.Earned, ch.Points)
			if ch.Cause != "" {
				line += "  " + ch.Cause + "."
			}
			if ch.Found != "" && ch.Cause == "" {
				line += "  found: " + ch.Found + "."
			}
			if ch.Hint != "" {
				line += "  hint: " + ch.Hint
			}
			c.printf("%s\n", line)
		}
	}
}
