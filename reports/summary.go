package reports

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// WriteSummary writes the run as Markdown in the form GitHub shows job
// summaries in ($GITHUB_STEP_SUMMARY): the outcome, a table of scenarios,
// each failure with its likely causes, and, when the run was compared with
// a baseline, the metrics that got worse (changes may be nil). Everything
// from the cluster is escaped: a name or message cannot add markup.
func WriteSummary(w io.Writer, r *model.Results, changes []Change) error {
	var b strings.Builder
	summary(&b, r, changes)
	_, err := io.WriteString(w, b.String())
	return err
}

var summaryIcons = map[model.Outcome]string{
	model.Passed: "✅", model.Failed: "❌", model.Errored: "⚠️", model.Cancelled: "⏹️", model.Skipped: "⏭️", model.NotApplicable: "➖",
}

func summary(b *strings.Builder, r *model.Results, changes []Change) {
	counts := map[model.Outcome]int{}
	for _, s := range r.Scenarios {
		counts[s.Outcome]++
	}
	var parts []string
	for _, o := range []model.Outcome{model.Passed, model.Failed, model.Errored, model.Cancelled, model.Skipped} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	fmt.Fprintf(b, "## %s kdrill: %s\n\n", summaryIcons[r.Outcome], strings.ToUpper(string(r.Outcome)))
	fmt.Fprintf(b, "%d scenario(s): %s", len(r.Scenarios), strings.Join(parts, ", "))
	if !r.FinishedAt.IsZero() {
		fmt.Fprintf(b, " in %.1fs", r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	if r.Cluster.Server != "" {
		fmt.Fprintf(b, ", on %s", md(r.Cluster.Server))
	}
	b.WriteString("\n\n| | scenario | outcome | duration | steps |\n|---|---|---|---:|---|\n")
	for _, s := range r.Scenarios {
		passed, na := 0, 0
		for _, st := range s.Steps {
			switch st.Outcome {
			case model.Passed:
				passed++
			case model.NotApplicable:
				na++
			}
		}
		steps := fmt.Sprintf("%d/%d passed", passed, len(s.Steps))
		if na > 0 {
			steps += fmt.Sprintf(", %d not applicable", na)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.1fs | %s |\n", summaryIcons[s.Outcome], md(s.Name), s.Outcome, s.DurationSeconds, steps)
	}
	failures(b, r)
	regressions(b, changes)
	for _, o := range r.Outages {
		fmt.Fprintf(b, "\n> ⚠️ %s\n", md(outageLine(o)))
	}
}

// failures lists each scenario that did not pass, with its failed steps'
// errors and likely causes.
func failures(b *strings.Builder, r *model.Results) {
	header := false
	for _, s := range r.Scenarios {
		if s.Outcome == model.Passed || s.Outcome == model.Skipped {
			continue
		}
		if !header {
			b.WriteString("\n### Failures\n")
			header = true
		}
		fmt.Fprintf(b, "\n**%s** (%s)\n", md(s.Name), md(s.File))
		wrote := false
		for _, st := range s.Steps {
			if st.Outcome != model.Failed && st.Outcome != model.Errored {
				continue
			}
			wrote = true
			fmt.Fprintf(b, "- %s `%s` (line %d): %s\n", md(st.Name), st.Kind, st.Line, md(message.FirstLine(st.Error)))
			if d := st.Diagnostics; d != nil {
				for _, c := range d.Causes {
					fmt.Fprintf(b, "  - likely cause: %s\n", md(c))
				}
			}
		}
		if !wrote && s.Error != "" {
			fmt.Fprintf(b, "- %s\n", md(message.FirstLine(s.Error)))
		}
		for _, left := range s.LeftBehind {
			fmt.Fprintf(b, "- left behind: %s\n", md(left))
		}
	}
}

// regressions is the comparison with the baseline: the metrics that got
// worse, or that none did.
func regressions(b *strings.Builder, changes []Change) {
	if changes == nil {
		return
	}
	var worse []Change
	for _, ch := range changes {
		if ch.Regressed {
			worse = append(worse, ch)
		}
	}
	if len(worse) == 0 {
		fmt.Fprintf(b, "\n### Against the baseline\n\nNo regressions in %d metrics.\n", len(changes))
		return
	}
	fmt.Fprintf(b, "\n### Against the baseline\n\n%d of %d metrics got worse:\n\n| scenario | metric | baseline | current | change |\n|---|---|---:|---:|---:|\n", len(worse), len(changes))
	for _, ch := range worse {
		current, change := "missing", ""
		if !ch.Missing {
			current = formatMetric(ch.Current)
			if ch.Baseline.Value != 0 {
				change = fmt.Sprintf("%+.0f%%", 100*(ch.Current.Value-ch.Baseline.Value)/math.Abs(ch.Baseline.Value))
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", md(ch.Baseline.Scenario), md(ch.Baseline.Name), formatMetric(ch.Baseline), current, change)
	}
}

// md makes text from a scenario or the cluster safe inside Markdown and
// its tables: printable, one line, markup and HTML characters escaped.
func md(s string) string {
	s = message.Printable(s)
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
