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
	sr := r.newScenarioResult(s)
	rec := r.scenarioRecord(sr)
	seed := r.seed()
	ns := r.opts.Namespace
	if ns == "" {
		ns = s.Spec.Namespace
	}
	if ns == "" {
		ns = DryRunNamespace
	}
	rec.set(func(sr *model.ScenarioResult) {
		sr.Seed, sr.Namespace, sr.Outcome, sr.StartedAt = seed, ns, model.Running, r.opts.Clock.Now()
		r.results.Scenarios = append(r.results.Scenarios, sr)
	})
	env := r.newEnv(ctx, s, sr, seed)
	env.Namespace = ns
	rec.started()
	if err := r.connectClusters(s, env); err != nil {
		rec.end(func(sr *model.ScenarioResult) { sr.Outcome, sr.Error = model.Errored, err.Error() })
		return sr
	}
	steps := append(append([]*scenario.Step{}, s.Spec.Steps...), s.Spec.Finally...)
	for i, st := range steps {
		stepRes := sr.Steps[i]
		if ctx.Err() != nil {
			break
		}
		senv := env.forStep(st, stepRes, env.Log.With("step", st.Name))
		srec := r.stepRecord(sr, stepRes)
		srec.start()
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
		srec.end(func(stepRes *model.StepResult) {
			stepRes.Plan, stepRes.Outcome = env.Cluster.Redactor.String(text), model.Passed
			if !planned {
				stepRes.Outcome = model.Skipped
			}
			if err != nil {
				stepRes.Outcome, stepRes.Error = outcomeOf(ctx, err), env.Cluster.Redactor.String(err.Error())
			}
		})
		srec.finished()
	}
	rec.end(func(sr *model.ScenarioResult) {
		sr.Outcome = model.Passed
		worstStep(sr)
	})
	return sr
}
