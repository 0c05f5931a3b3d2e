package reports

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/kdrill/kdrill/model"
)

// Metric is one number a run recorded, with the direction that is worse.
type Metric struct {
	Scenario string
	Name     string
	Value    float64
	// Seconds marks a duration, compared with an absolute slack for timing
	// noise.
	Seconds bool
	// LowerIsWorse is set for availability, success ratios and scores.
	LowerIsWorse bool
	// Samples, Spread and Tail say how noisy the figure is (model.Measure).
	Samples int
	Spread  float64
	Tail    bool
}

// Metrics lists what a run measured: each scenario's outcome and duration,
// each step's duration, a lab's score, and what each step's output
// measured (model.Measured: a monitor's recovery, a rollout's floor, ...).
func Metrics(r *model.Results) []Metric {
	var out []Metric
	for _, s := range r.Scenarios {
		add := func(name string, v float64, seconds, lowerIsWorse bool) {
			out = append(out, Metric{Scenario: s.Name, Name: name, Value: v, Seconds: seconds, LowerIsWorse: lowerIsWorse})
		}
		passed := 0.0
		if s.Outcome == model.Passed {
			passed = 1
		}
		add("passed", passed, false, true)
		// Flaky is an outcome of its own: passed, on a retry.
		flaky := 0.0
		if s.Flaky {
			flaky = 1
		}
		add("flaky", flaky, false, false)
		add("duration", s.DurationSeconds, true, false)
		if s.Score != nil {
			add("score", float64(s.Score.Earned), false, true)
		}
		for _, st := range s.Steps {
			if st.Outcome != model.Passed {
				continue
			}
			prefix := "steps[" + st.Name + "]."
			add(prefix+"duration", st.DurationSeconds, true, false)
			if st.Output == nil {
				continue // nothing measured, not zeros
			}
			recorded, err := st.DecodedOutput()
			if m, ok := recorded.(model.Measured); ok && err == nil {
				for _, x := range m.Measures() {
					out = append(out, Metric{
						Scenario: s.Name, Name: prefix + x.Name, Value: x.Value, Seconds: x.Seconds, LowerIsWorse: x.LowerIsWorse,
						Samples: x.Samples, Spread: x.Spread, Tail: x.Tail,
					})
				}
			}
		}
	}
	return out
}

// Tolerance says how much worse a metric may get before it is a
// regression: a share of the baseline, and for durations an absolute slack.
type Tolerance struct {
	Relative     float64 // 0.2 = 20 %
	SecondsSlack float64
	// ownSlack says the scenario set the slack for this metric itself,
	// which then holds for wall times too (see regressed).
	ownSlack bool
}

// DefaultTolerance allows 20 % and, for durations, a quarter second.
var DefaultTolerance = Tolerance{Relative: 0.2, SecondsSlack: 0.25}

// builtinTolerances are metrics whose default is stricter than the
// command line's: whether a scenario passed, and a lab's score.
var builtinTolerances = map[string]Tolerance{
	"passed": {},
	"score":  {},
}

// toleranceFor resolves a metric's tolerance: the scenario's own (an exact
// name first, then the longest matching pattern), over the built-in
// defaults, over def. ignore is set when the scenario leaves it out.
func toleranceFor(name string, written map[string]model.Tolerance, def Tolerance) (tol Tolerance, ignore bool) {
	tol = def
	if b, ok := builtinTolerances[name]; ok {
		tol = b
	}
	own, ok := written[name]
	if !ok {
		best := ""
		for pattern, t := range written {
			if len(pattern) > len(best) && model.GlobMatch(pattern, name) {
				best, own, ok = pattern, t, true
			}
		}
	}
	if !ok {
		return tol, false
	}
	if own.Relative != nil {
		tol.Relative = *own.Relative
	}
	if own.Slack != nil {
		tol.SecondsSlack, tol.ownSlack = own.Slack.Seconds(), true
	}
	return tol, own.Ignore
}

// Change is one metric's baseline and current value.
type Change struct {
	Baseline, Current Metric
	Missing           bool // the current run did not record it
	Regressed         bool
	// BecameFlaky marks a scenario that passed at once in the baseline
	// and only on a retry now: shown apart, not counted as a regression
	// (the retry was the scenario's own choice), so a nightly run sees it.
	BecameFlaky bool
	// Tolerance is what the comparison allowed.
	Tolerance Tolerance
}

// Compare matches the current run's metrics to the baseline's and marks
// those that got worse beyond their tolerance: the scenario's own (its
// spec.tolerances, as the current run recorded them), else the built-in
// default for the metric, else def. A metric the current run no longer
// records (its step failed, or the scenario is gone) is a regression.
func Compare(baseline, current *model.Results, def Tolerance) []Change {
	cur := map[string]Metric{}
	ran := map[string]bool{}
	for _, m := range Metrics(current) {
		cur[m.Scenario+"\x00"+m.Name] = m
		ran[m.Scenario] = true
	}
	tolerances := map[string]map[string]model.Tolerance{}
	for _, r := range []*model.Results{baseline, current} { // the current run's win
		for _, s := range r.Scenarios {
			if s.Tolerances != nil {
				tolerances[s.Name] = s.Tolerances
			}
		}
	}
	var out []Change
	for _, b := range Metrics(baseline) {
		if !ran[b.Scenario] && b.Name != "passed" {
			continue // a scenario the current run lacks is one regression
		}
		tol, ignore := toleranceFor(b.Name, tolerances[b.Scenario], def)
		if ignore {
			continue
		}
		c, ok := cur[b.Scenario+"\x00"+b.Name]
		ch := Change{Baseline: b, Current: c, Missing: !ok, Tolerance: tol}
		switch {
		case b.Name == "flaky":
			ch.BecameFlaky = ok && c.Value > b.Value
		case !ok:
			ch.Regressed = true
		default:
			ch.Regressed = regressed(b, c, tol)
		}
		out = append(out, ch)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Baseline.Scenario != out[j].Baseline.Scenario {
			return out[i].Baseline.Scenario < out[j].Baseline.Scenario
		}
		return out[i].Baseline.Name < out[j].Baseline.Name
	})
	return out
}

// WriteComparison prints the regressions (or says there are none) and
// returns how many there were.
func WriteComparison(w io.Writer, changes []Change) int {
	regressions := 0
	var b strings.Builder
	for _, ch := range changes {
		if !ch.Regressed {
			continue
		}
		regressions++
		current := "missing"
		change := ""
		if !ch.Missing {
			current = formatMetric(ch.Current)
			if ch.Baseline.Value != 0 {
				change = fmt.Sprintf("%+.0f%%", 100*(ch.Current.Value-ch.Baseline.Value)/math.Abs(ch.Baseline.Value))
			}
		}
		fmt.Fprintf(&b, "  %-24s %-40s %12s %12s %8s\n", ch.Baseline.Scenario, ch.Baseline.Name, formatMetric(ch.Baseline), current, change)
	}
	var flaky []string
	for _, ch := range changes {
		if ch.BecameFlaky {
			flaky = append(flaky, ch.Baseline.Scenario)
		}
	}
	defer func() {
		if len(flaky) > 0 {
			fmt.Fprintf(w, "became flaky (passed on a retry; passed at once in the baseline): %s\n", strings.Join(flaky, ", "))
		}
	}()
	if regressions == 0 {
		fmt.Fprintf(w, "no regressions in %d metrics\n", len(changes))
		return 0
	}
	fmt.Fprintf(w, "%d of %d metrics got worse:\n  %-24s %-40s %12s %12s %8s\n%s", regressions, len(changes), "scenario", "metric", "baseline", "current", "change", b.String())
	return regressions
}

func formatMetric(m Metric) string {
	if m.Seconds {
		return fmt.Sprintf("%.3fs", m.Value)
	}
	return fmt.Sprintf("%.4g", m.Value)
}
