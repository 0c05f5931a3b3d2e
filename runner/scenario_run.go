package runner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

func (r *run) newScenarioResult(s *scenario.Scenario) *model.ScenarioResult {
	sr := &model.ScenarioResult{
		Name:        s.DisplayName(),
		Cluster:     s.TargetName,
		Instance:    s.InstanceVars,
		Description: s.Metadata.Description,
		File:        s.File,
		Digest:      s.Digest,
		Labels:      s.Metadata.Labels,
		Vars:        s.Spec.Vars,
		Tolerances:  s.Spec.Tolerances,
		Outcome:     model.Skipped,
	}
	for _, st := range append(append([]*scenario.Step{}, s.Spec.Steps...), s.Spec.Finally...) {
		sr.Steps = append(sr.Steps, &model.StepResult{Index: st.Index, Phase: st.Phase, Name: st.Name, Kind: st.Kind, Line: st.Line, Cluster: st.Cluster, Outcome: model.Skipped})
	}
	return sr
}

// undo runs the scenario's deferred undos and records what they did; one
// that fails fails the scenario, naming what is left to restore.
func (r *run) undo(ctx context.Context, env *scope, sr *model.ScenarioResult) {
	done, errs := env.undoAll(ctx)
	for _, d := range done {
		env.Log.Info("restored", "what", d)
	}
	r.scenarioRecord(sr).set(func(sr *model.ScenarioResult) {
		sr.Restored = append(sr.Restored, done...)
		for _, err := range errs {
			env.Log.Error("not restored", "err", err)
			if sr.Error == "" {
				sr.Error = err.Error() + " (kdrill restore retries it)"
			}
			if sr.Outcome == model.Running || sr.Outcome == model.Passed {
				sr.Outcome = model.Errored
			}
		}
	})
}

func (r *run) runScenario(ctx context.Context, s *scenario.Scenario, a attempt) *model.ScenarioResult {
	sr := r.newScenarioResult(s)
	rec := r.scenarioRecord(sr)
	seed := r.seed()
	rec.set(func(sr *model.ScenarioResult) {
		sr.Seed = seed
		sr.Outcome = model.Running
		sr.StartedAt = r.opts.Clock.Now()
		a.record(r.results, sr)
	})
	env := r.newEnv(ctx, s, sr, seed)
	timeout := s.Spec.Timeout.Duration
	if r.opts.Timeout > 0 {
		timeout = r.opts.Timeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	ns, created, err := r.namespace(sctx, s)
	rec.set(func(sr *model.ScenarioResult) { sr.Namespace, sr.NamespaceCreated = ns, created })
	env.Namespace = ns
	// The other clusters the steps use get the same namespace.
	var others []*kube.Cluster
	if err == nil {
		others, err = r.otherClusters(sctx, s, env, ns)
	}
	rec.started()
	failed := err != nil
	if err != nil {
		rec.set(func(sr *model.ScenarioResult) {
			sr.Error = err.Error()
			sr.Outcome = outcomeOf(ctx, err)
		})
	}

	stepResults := sr.Steps
	for i, st := range s.Spec.Steps {
		if failed || sctx.Err() != nil {
			break
		}
		if st.Background {
			r.background(sctx, ctx, env, st, sr, stepResults[i])
			continue
		}
		// A lab's failed check costs its points and the grading goes on.
		labCheck := s.Spec.Lab != nil && !st.Setup
		if r.step(sctx, ctx, env, st, sr, stepResults[i], nil) != nil && !st.ContinueOnError && !labCheck {
			failed = true
		}
	}

	// A person asked to look before anything is cleaned up.
	if r.opts.PauseOnFailure != nil && ctx.Err() == nil {
		stepFailed := false
		rec.get(func(sr *model.ScenarioResult) { stepFailed = anyFailed(sr) })
		if failed || stepFailed || sctx.Err() != nil {
			// What the observers print of the failure comes first.
			r.j.flush()
			var view *model.ScenarioResult
			rec.get(func(sr *model.ScenarioResult) { view = sr.Snapshot() })
			r.opts.PauseOnFailure(ctx, view)
		}
	}
	// finally steps run whatever happened, with their own bounded time: after
	// an interrupt or the scenario's timeout the cleanup timeout bounds them.
	cleanupCtx := context.WithoutCancel(ctx)
	if ctx.Err() != nil || sctx.Err() != nil {
		var cancelCleanup context.CancelFunc
		cleanupCtx, cancelCleanup = context.WithTimeout(cleanupCtx, r.opts.CleanupTimeout)
		defer cancelCleanup()
	}
	// Background steps end before finally steps: monitors are stopped, other
	// steps are waited for (or stopped too when the steps failed).
	env.shared.tasks.finish(cleanupCtx, failed || sctx.Err() != nil)
	// Changes to shared objects are undone next, before anything else can
	// use up the cleanup time.
	r.undo(cleanupCtx, env, sr)
	for i, st := range s.Spec.Finally {
		_ = r.step(cleanupCtx, cleanupCtx, env, st, sr, stepResults[len(s.Spec.Steps)+i], nil)
	}
	stepFailed := false
	rec.get(func(sr *model.ScenarioResult) { stepFailed = anyFailed(sr) })
	keep := r.opts.KeepNamespace == KeepAlways || (r.opts.KeepNamespace == KeepOnFailure && (failed || sctx.Err() != nil || stepFailed))
	r.tidyUp(ctx, env, sr, others, created, keep)

	rec.end(func(sr *model.ScenarioResult) {
		if sr.Outcome == model.Running {
			sr.Outcome = model.Passed
		}
		worstStep(sr)
		if s.Spec.Lab != nil {
			sr.Score = score(s, sr)
			if sr.Outcome == model.Failed || sr.Outcome == model.Passed {
				sr.Outcome, sr.Error = model.Passed, ""
				if !sr.Score.Passed {
					sr.Outcome = model.Failed
					sr.Error = fmt.Sprintf("scored %d of %d points; %d needed to pass", sr.Score.Earned, sr.Score.Possible, sr.Score.PassingScore)
					if sr.Score.Possible == 0 {
						sr.Error = fmt.Sprintf("nothing could be graded on this cluster: all %d points are not applicable here", sr.Score.NotGraded)
					}
				}
			}
		}
		if len(sr.LeftBehind) > 0 && (sr.Outcome == model.Passed || sr.Outcome == model.Failed) {
			// Nothing left, or said loudly: a run that leaves its mess on the
			// cluster has not passed, whatever its steps did.
			if sr.Error == "" {
				sr.Error = "left behind: " + strings.Join(sr.LeftBehind, "; ") + " (kdrill leftovers removes it)"
			}
			if sr.Outcome == model.Passed {
				sr.Outcome = model.Errored
			}
		}
		if ctx.Err() != nil {
			sr.Outcome = model.Cancelled
		} else if sctx.Err() != nil && sr.Outcome == model.Passed {
			sr.Outcome = model.Failed
			sr.Error = fmt.Sprintf("scenario timed out after %s", timeout)
		}
		a.judge(ctx, sr)
	})
	return sr
}

// score grades a lab from its steps' outcomes. A check the cluster could
// not make (not applicable) is neither earned nor lost: its points are
// counted apart and the passing score shrinks in proportion.
func score(s *scenario.Scenario, sr *model.ScenarioResult) *model.Score {
	sc := &model.Score{Checks: []model.CheckScore{}}
	for i, st := range s.Spec.Steps {
		if st.Points == 0 {
			continue
		}
		res := sr.Steps[i]
		c := model.CheckScore{Step: st.Name, Points: st.Points, Passed: res.Outcome == model.Passed}
		switch {
		case c.Passed:
			c.Earned = st.Points
		case res.Outcome == model.NotApplicable:
			c.NotApplicable = res.Error
			sc.NotGraded += c.Points
		case res.Outcome == model.Errored:
			// The cluster's fault, not the student's: no verdict on it.
			c.Ungraded = res.Error
			sc.Ungraded += c.Points
		default:
			c.Hint = st.Hint
			if d := res.Diagnostics; d != nil && len(d.Causes) > 0 {
				c.Cause = d.Causes[0]
			}
			c.Found = found(res)
		}
		if c.NotApplicable == "" {
			sc.Possible += c.Points
		}
		sc.Earned += c.Earned
		sc.Checks = append(sc.Checks, c)
	}
	sc.PassingScore = sc.Possible
	if p := s.Spec.Lab.PassingScore; p != nil {
		sc.PassingScore = *p
		if total := sc.Possible + sc.NotGraded; sc.NotGraded > 0 && total > 0 {
			sc.PassingScore = (*p*sc.Possible + total - 1) / total
		}
	}
	sc.Passed = sc.Earned >= sc.PassingScore && (sc.Possible > 0 || sc.NotGraded == 0)
	return sc
}

// drawSeed picks a run's seed when none is given: positive and below 2^53,
// so it survives JSON and a rerun with --seed replays the run.
func drawSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])                                 // crypto/rand.Read never fails on Linux
	return int64(binary.LittleEndian.Uint64(b[:])>>11) + 1 //nolint:gosec // G115: shifted into range first
}

// newEnv is the environment a scenario's steps share; its namespace is set
// once known.
func (r *run) newEnv(ctx context.Context, s *scenario.Scenario, sr *model.ScenarioResult, seed int64) *scope {
	return &scope{
		Values: step.Values{
			Cluster: r.cluster(s), Scenario: s, Vars: sr.Vars, Clock: r.opts.Clock, Seed: seed, ProbeImage: r.opts.ProbeImage, SelfNode: r.opts.SelfNode,
			Log: Logger(ctx).With("scenario", s.Metadata.Name),
		},
		shared: &shared{outputs: map[string]any{}, j: r.j, scenario: sr, tasks: newTasks()},
	}
}

// seed is the run's --seed, or a fresh one per scenario.
func (r *run) seed() int64 {
	if r.opts.Seed != 0 {
		return r.opts.Seed
	}
	return drawSeed()
}

// worstStep raises a scenario's outcome to its worst step's and takes that
// step's error as the scenario's, if it has none yet.
func worstStep(sr *model.ScenarioResult) {
	for _, st := range sr.Steps {
		if model.Severity(st.Outcome) > model.Severity(sr.Outcome) && st.Outcome != model.Skipped && st.Outcome != model.NotApplicable {
			sr.Outcome = st.Outcome
			if sr.Error == "" {
				sr.Error = fmt.Sprintf("%s[%d] %q: %s", st.Phase, st.Index, st.Name, st.Error)
			}
		}
	}
}

// anyFailed reports whether a step of the scenario did not pass (a lab's
// failed check or a continueOnError step leaves the steps running).
func anyFailed(sr *model.ScenarioResult) bool {
	failed := false
	for _, st := range sr.Steps {
		failed = failed || st.Outcome == model.Failed || st.Outcome == model.Errored || st.Outcome == model.Cancelled
	}
	return failed
}

// cluster is the cluster the scenario runs on: its own target in a run
// over several clusters, else the run's.
func (r *run) cluster(s *scenario.Scenario) *kube.Cluster {
	if c := r.on[s]; c != nil {
		return c
	}
	return r.opts.Cluster
}

// outages are the API server outages every cluster of the run met.
func (r *run) outages() []model.Outage {
	out := r.opts.Cluster.Outages()
	for _, c := range r.targets {
		if c != r.opts.Cluster {
			out = append(out, c.Outages()...)
		}
	}
	return out
}

// otherClusters connects the scenario's named clusters to its env and
// makes its namespace on each one a step uses besides the run's cluster,
// which it returns (their namespaces are deleted with the scenario's).
func (r *run) otherClusters(ctx context.Context, s *scenario.Scenario, env *scope, ns string) ([]*kube.Cluster, error) {
	if err := r.connectClusters(s, env); err != nil || len(env.clusters) == 0 {
		return nil, err
	}
	var others []*kube.Cluster
	for _, st := range s.AllSteps() {
		c := env.clusters[st.Cluster]
		if c == nil || c == env.Cluster || slices.Contains(others, c) {
			continue
		}
		_, err := c.Typed.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   ns,
			Labels: map[string]string{step.LabelManagedBy: "kdrill", step.LabelScenario: s.Metadata.Name},
		}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return others, fmt.Errorf("create namespace %s on %s: %w", ns, c.Context, err)
		}
		others = append(others, c)
	}
	return others, nil
}

// connectClusters gives the env the scenario's named clusters.
func (r *run) connectClusters(s *scenario.Scenario, env *scope) error {
	if len(s.Spec.Clusters) == 0 {
		return nil
	}
	env.clusters = map[string]*kube.Cluster{}
	for _, name := range slices.Sorted(maps.Keys(s.Spec.Clusters)) {
		ref := s.Spec.Clusters[name]
		c, ok := r.opts.Clusters[ref.Context]
		if !ok {
			return fmt.Errorf("spec.clusters.%s: context %q is not connected; kdrill run connects the contexts scenarios name, from the kubeconfig it uses", name, ref.Context)
		}
		env.clusters[name] = c
	}
	return nil
}

// found is what a failed lab check saw, for the student: the values its
// expression last read, else its error's first line.
func found(res *model.StepResult) string {
	if len(res.Values) > 0 {
		return message.Clip(expression.FormatValues(res.Values), 300)
	}
	return message.Clip(message.FirstLine(res.Error), 300)
}
