package runner

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// step runs one step and reports whether it passed. stepParent bounds the
// step; runCtx tells an interrupt from a timeout; t is set for a background
// step, whose stop is not a failure.
func (r *run) step(stepParent, runCtx context.Context, env *scope, st *scenario.Step, sr *model.ScenarioResult, stepRes *model.StepResult, t *task) error {
	rec := r.stepRecord(sr, stepRes)
	timeout := st.Timeout.Duration
	if timeout == 0 {
		timeout = env.Scenario.Spec.StepTimeout.Duration
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if st.Info.Continuous && st.Timeout.Duration == 0 {
		ctx, cancel = context.WithCancel(stepParent) // bounded by the scenario
	} else {
		ctx, cancel = context.WithTimeout(stepParent, timeout)
	}
	defer cancel()
	log := Logger(runCtx).With("scenario", env.Scenario.Metadata.Name, "step", st.Name, "kind", st.Kind)
	senv := env.forStep(st, stepRes, log)
	if t != nil {
		senv.ready = func() { t.once.Do(func() { close(t.ready) }) }
	}
	ctx = withStepPolicy(WithLogger(ctx, log), st)
	// Every request the step sends that the retry policy tries again is
	// logged and counted in the step's result: none is silent.
	ctx = kube.WithRetryObserver(ctx, func(rt kube.Retry) {
		log.Warn("retrying a request after a transient error", "request", rt.Method+" "+rt.Path, "attempt", rt.Attempt, "in", rt.Wait, "err", rt.Err)
		rec.set(func(res *model.StepResult) { res.Retries++ })
		env.Cluster.NoteWaiting(st.Label())
	})
	rec.start()

	public := senv.public()
	action, err := actionFor(st, public)
	var out any
	if err == nil {
		out, err = action.Run(ctx, public)
	}

	stopped := t != nil && env.shared.tasks.wasStopped(t) && runCtx.Err() == nil
	if stopped && errors.Is(err, context.Canceled) {
		err = nil
	}
	var asExpected string
	asExpected, err = expectedFailure(st, runCtx, err)
	// Expressions see the output as plain values; the result records it with
	// any Secret's value hidden. Both are worked out once, outside the lock.
	var plain any
	if out != nil {
		plain = expression.Plain(out)
	}
	recorded := redactOutput(env.Cluster, out, plain)
	rec.end(func(stepRes *model.StepResult) {
		stepRes.Output = recorded
		r.results.Outages = r.outages()
		switch err {
		case nil:
			stepRes.Outcome = model.Passed
			stepRes.FailedAsExpected = env.Cluster.Redactor.String(asExpected)
		default:
			stepRes.Outcome = outcomeOf(runCtx, err)
			msg := err.Error()
			o, during := outageDuring(r.results.Outages, stepRes.StartedAt, stepRes.FinishedAt)
			if during {
				env.Cluster.NoteWaiting(st.Label())
			}
			if during && stepRes.Outcome == model.Failed {
				// The control plane's fault is the likelier cause than a
				// regression: the run exits 3, not 1.
				stepRes.Outcome = model.Errored
				msg += fmt.Sprintf("; likely cause: the control plane was unavailable for %.1fs during this step (%s)", o.Seconds, message.FirstLine(o.Error))
			}
			var refused *kube.PolicyError
			if errors.As(err, &refused) {
				msg = refused.Msg
			}
			var na *step.NotApplicableError
			if errors.As(err, &na) {
				msg = na.Reason
			}
			if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "timed out") {
				msg = fmt.Sprintf("timed out after %s: %s", timeout, msg)
			}
			stepRes.Error = env.Cluster.Redactor.String(msg)
		}
	})
	if out != nil {
		env.setOutput(st.Name, plain, out)
	}
	failed := err != nil && !step.IsNotApplicable(err)
	if failed && runCtx.Err() == nil && env.Namespace != "" {
		events := recentEvents(runCtx, env.Cluster, env.Namespace, sr.StartedAt)
		rec.set(func(res *model.StepResult) { res.Events = events })
	}
	if failed && env.Namespace != "" && !env.Cluster.DryRun {
		// Also after an interrupt: the collection has its own bound.
		diag := r.diagnose(context.WithoutCancel(runCtx), env, st, action, sr)
		rec.set(func(res *model.StepResult) { res.Diagnostics = diag })
	}
	rec.finished()
	if !failed {
		return nil
	}
	f := &stepFailure{cause: err}
	rec.get(func(res *model.StepResult) { f.msg, f.outcome = res.Error, res.Outcome })
	return f
}

// stepFailure is a failed step's error as its result records it (redacted,
// with its likely cause), keeping the class of what it met: a step that
// waits for it (wait, stop) fails the same way, the cluster's fault or a
// regression.
type stepFailure struct {
	msg     string
	outcome model.Outcome
	cause   error
}

func (f *stepFailure) Error() string { return f.msg }

// Unwrap is what the step met; an outcome the runner judged the
// cluster's fault (an outage during the step) is an InfraError.
func (f *stepFailure) Unwrap() error {
	if f.outcome == model.Errored && !kube.IsInfra(f.cause) {
		return &kube.InfraError{Err: f.cause}
	}
	return f.cause
}

// redactOutput returns what a step's result records of its output: the
// output itself, or, when a Secret's value shows in it, a plain copy with
// the value hidden. Later expressions still see the real output.
func redactOutput(c *kube.Cluster, out, plain any) any {
	red := c.Redactor
	if out == nil || red.Empty() {
		return out
	}
	hidden := red.Value(plain)
	if reflect.DeepEqual(plain, hidden) {
		return out
	}
	return hidden
}

// maxStepEvents is how many of a namespace's events a failed step keeps.
const maxStepEvents = 20

// recentEvents lists the namespace's events since the scenario started,
// newest maxStepEvents, oldest first, to show beside a failed step. A
// failure to list them is logged, not reported: the step's own error is
// the one that matters.
func recentEvents(ctx context.Context, c *kube.Cluster, namespace string, since time.Time) []model.EventRecord {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := c.Typed.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		Logger(ctx).Warn("could not list events for a failed step", "namespace", namespace, "err", err)
		return nil
	}
	var out []model.EventRecord
	for _, e := range list.Items {
		at := e.LastTimestamp.Time
		if at.IsZero() {
			at = e.EventTime.Time
		}
		if at.IsZero() {
			at = e.CreationTimestamp.Time
		}
		if at.Before(since.Add(-time.Second)) {
			continue
		}
		out = append(out, model.EventRecord{
			Time: at, Type: e.Type, Reason: e.Reason, Count: e.Count, Message: c.Redactor.String(e.Message),
			Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if len(out) > maxStepEvents {
		out = out[len(out)-maxStepEvents:]
	}
	return out
}

// outageDuring returns the longest outage that overlapped [start, end].
func outageDuring(outages []model.Outage, start, end time.Time) (model.Outage, bool) {
	var longest model.Outage
	found := false
	for _, o := range outages {
		oEnd := o.End
		if oEnd.IsZero() {
			oEnd = end
			o.Seconds = end.Sub(o.Start).Seconds()
		}
		if o.Start.After(end) || oEnd.Before(start) {
			continue
		}
		if !found || o.Seconds > longest.Seconds {
			longest, found = o, true
		}
	}
	return longest, found
}

// outcomeOf classifies a step's error.
func outcomeOf(runCtx context.Context, err error) model.Outcome {
	switch {
	case runCtx.Err() != nil && errors.Is(err, context.Canceled):
		return model.Cancelled
	case kube.IsInfra(err):
		return model.Errored
	case step.IsNotApplicable(err):
		return model.NotApplicable
	default:
		return model.Failed
	}
}

// expectedFailure holds a step that says expectFailure to it: its action's
// failure (with the message, when one is given) is what was expected, and
// passes, said in the note; its success fails. An outage, an interrupt or
// a check the cluster cannot make is not the failure expected, and stands.
func expectedFailure(st *scenario.Step, runCtx context.Context, err error) (string, error) {
	want := st.ExpectFailure
	switch {
	case want == nil:
		return "", err
	case err == nil:
		if want.Message != "" {
			return "", fmt.Errorf("expected to fail with %q, but it passed", want.Message)
		}
		return "", errors.New("expected to fail, but it passed")
	case runCtx.Err() != nil || kube.IsInfra(err) || step.IsNotApplicable(err):
		return "", err
	case want.Message != "" && !strings.Contains(err.Error(), want.Message):
		return "", fmt.Errorf("failed, but not as expected: the error does not say %q: %w", want.Message, err)
	}
	return err.Error(), nil
}
