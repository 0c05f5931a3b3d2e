package runner

import (
	"k8s.io/utils/clock"

	"github.com/kdrill/kdrill/model"
)

// stepRecord is a step's run's hold on the step's record: the run, a
// background task and a dry run's plan each change it only through it,
// under the journal's lock, and say through it when the step starts and
// ends, which the observers are shown.
type stepRecord struct {
	j   *journal
	clk clock.PassiveClock
	sr  *model.ScenarioResult
	rec *model.StepResult
}

func (r *run) stepRecord(sr *model.ScenarioResult, rec *model.StepResult) stepRecord {
	return stepRecord{j: r.j, clk: r.opts.Clock, sr: sr, rec: rec}
}

// start records that the step runs from now, and shows it.
func (s stepRecord) start() {
	s.j.update(func() { s.rec.Outcome, s.rec.StartedAt = model.Running, s.clk.Now() })
	s.j.publish(model.StepStarted, s.sr, s.rec)
}

// set changes the record.
func (s stepRecord) set(fn func(*model.StepResult)) {
	s.j.update(func() { fn(s.rec) })
}

// get reads the record.
func (s stepRecord) get(fn func(*model.StepResult)) {
	s.j.read(func() { fn(s.rec) })
}

// end records that the step ended now, and how (fn); finished shows it.
func (s stepRecord) end(fn func(*model.StepResult)) {
	s.j.update(func() {
		s.rec.FinishedAt = s.clk.Now()
		s.rec.DurationSeconds = s.rec.FinishedAt.Sub(s.rec.StartedAt).Seconds()
		fn(s.rec)
	})
}

// finished shows the ended step to the observers.
func (s stepRecord) finished() { s.j.publish(model.StepFinished, s.sr, s.rec) }

// scenarioRecord is a scenario's run's hold on its record, as stepRecord
// is a step's.
type scenarioRecord struct {
	j   *journal
	clk clock.PassiveClock
	rec *model.ScenarioResult
}

func (r *run) scenarioRecord(sr *model.ScenarioResult) scenarioRecord {
	return scenarioRecord{j: r.j, clk: r.opts.Clock, rec: sr}
}

// set changes the record.
func (s scenarioRecord) set(fn func(*model.ScenarioResult)) {
	s.j.update(func() { fn(s.rec) })
}

// get reads the record.
func (s scenarioRecord) get(fn func(*model.ScenarioResult)) {
	s.j.read(func() { fn(s.rec) })
}

// started shows the started scenario to the observers.
func (s scenarioRecord) started() { s.j.publish(model.ScenarioStarted, s.rec, nil) }

// end records that the scenario ended now, and how (fn), and shows it.
func (s scenarioRecord) end(fn func(*model.ScenarioResult)) {
	s.j.update(func() {
		s.rec.FinishedAt = s.clk.Now()
		s.rec.DurationSeconds = s.rec.FinishedAt.Sub(s.rec.StartedAt).Seconds()
		fn(s.rec)
	})
	s.j.publish(model.ScenarioFinished, s.rec, nil)
}
