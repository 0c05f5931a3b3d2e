package runner

import (
	"context"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// DryRunNamespace is where a dry run checks namespaced objects when the
// scenario names none and -n is not given: a run would create a fresh
// namespace, which a dry run cannot.
const DryRunNamespace = "default"

// plan walks a scenario's steps without changing the cluster: each writing
// step says what it would do, its writes sent as server-side dry runs.
func (r *run) plan(ctx context.Context, s *scenario.Scenario) *model.ScenarioResult {
	clk := r.opts.Clock
	sr := r.newScenarioResult(s)
	seed := r.seed()
	ns := r.opts.Namespace
	if ns == "" {
		ns = s.Spec.Namespace
	}
	if ns == "" {
		ns = DryRunNamespace
	}
	r.j.update(func() {
		sr.Seed, sr.Namespace, sr.Outcome, sr.StartedAt = seed, ns, model.Running, clk.Now()
		r.results.Scenarios = append(r.results.Scenarios, sr)
	})
	env := r.newEnv(ctx, s, sr, seed)
	env.Namespace = ns
	r.j.publish(model.ScenarioStarted, sr, nil)
	if err := r.connectClusters(s, env); err != nil {
		r.j.update(func() {
			sr.Outcome, sr.Error, sr.FinishedAt = model.Errored, err.Error(), clk.Now()
		})
		r.j.publish(model.ScenarioFinished, sr, nil)
		return sr
	}
	steps := append(append([]*scenario.Step{}, s.Spec.Steps...), s.Spec.Finally...)
	for i, st := range steps {
		stepRes := sr.Steps[i]
		if ctx.Err() != nil {
			break
		}
		senv := env.forStep(st, stepRes, env.Log.With("step", st.Name))
		r.j.update(func() { stepRes.Outcome, stepRes.StartedAt = model.Running, clk.Now() })
		r.j.publish(model.StepStarted, sr, stepRes)
		text, err := "reads or waits only; not run in a dry run", error(nil)
		public := senv.public()
		action, aerr := actionFor(st, public)
		if p, ok := action.(step.Planner); ok && aerr == nil {
			pctx, cancel := context.WithTimeout(withStepPolicy(ctx, st), 30*time.Second)
			text, err = p.Plan(pctx, public)
			cancel()
		}
		if aerr != nil {
			err = aerr
		}
		_, planned := st.Action.(step.Planner)
		r.j.update(func() {
			stepRes.FinishedAt = clk.Now()
			stepRes.DurationSeconds = stepRes.FinishedAt.Sub(stepRes.StartedAt).Seconds()
			stepRes.Plan, stepRes.Outcome = env.Cluster.Redactor.String(text), model.Passed
			if !planned {
				stepRes.Outcome = model.Skipped
			}
			if err != nil {
				stepRes.Outcome, stepRes.Error = outcomeOf(ctx, err), env.Cluster.Redactor.String(err.Error())
			}
		})
		r.j.publish(model.StepFinished, sr, stepRes)
	}
	r.j.update(func() {
		sr.FinishedAt = clk.Now()
		sr.DurationSeconds = sr.FinishedAt.Sub(sr.StartedAt).Seconds()
		sr.Outcome = model.Passed
		worstStep(sr)
	})
	r.j.publish(model.ScenarioFinished, sr, nil)
	return sr
}
