package steps

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Assert waits until an expression holds. With a resource, the expression is
// evaluated against the watched object (object) or list (objects) on every
// change the API server reports, never by polling; without one, it is
// evaluated once over vars and earlier steps' outputs. With holdFor, the
// expression must instead stay true for the whole window.
//
// Example:
//
//	steps:
//	- name: blue is available
//	  timeout: 60s
//	  assert:
//	    resource: {kind: Deployment, name: testing-service-v1}
//	    expr: object.status.availableReplicas == vars.replicas
type Assert struct {
	// Resource to watch: kind and name (object is that object, or nil while
	// it does not exist) or kind and selector (objects is the list).
	// Without it the expression is evaluated once, over vars and steps.
	Resource *ObjectRef `json:"resource,omitempty"`
	// Expr must evaluate to true. It sees object, objects, vars, steps and
	// namespace.
	Expr expression.Expr `json:"expr"`
	// HoldFor turns the check around: the expression must be true from the
	// start and stay true for this long; the first false value fails the step.
	HoldFor model.Duration `json:"holdFor,omitempty"`
}

// Default does nothing: Assert has no defaults.
func (a *Assert) Default() {}

// Validate checks that an expression and a usable resource are given.
func (a *Assert) Validate() error {
	var errs scenario.FieldErrors
	if a.Expr.IsZero() {
		errs.Add("expr", "required: an expression that must become true, such as object.status.availableReplicas == 3")
	}
	if a.Resource != nil {
		a.Resource.validate(&errs, "resource", false)
	} else if !a.Expr.IsZero() && expression.Reads(a.Expr.Source, "object", "objects") {
		errs.Add("expr", "reads object, but the assert names no resource to watch: add resource: {kind: ..., name: ...} (or selector: ...)")
	}
	return errs.Err()
}

// ExprNames adds object and objects to the expression environment.
func (a *Assert) ExprNames() map[string]any {
	return map[string]any{"object": map[string]any{}, "objects": []any{}}
}

// Run evaluates the expression on every watch event until it holds (or, with
// holdFor, until the window passes without it failing).
func (a *Assert) Run(ctx context.Context, env *step.Env) (any, error) {
	start := env.Clock.Now()
	out := &model.AssertOutput{}
	var lastValues map[string]any
	var lastErr error
	eval := func(extra map[string]any) bool {
		out.Evaluations++
		ok, values, err := a.Expr.Eval(env.ExprEnv(extra))
		lastValues, lastErr = values, err
		env.Observe(a.Expr.Source, values)
		return ok && err == nil
	}
	finish := func() *model.AssertOutput {
		out.WaitedSeconds = env.Clock.Since(start).Seconds()
		return out
	}

	if a.Resource == nil {
		if eval(map[string]any{"object": nil, "objects": []any{}}) {
			return finish(), nil
		}
		return finish(), a.failure("does not hold", lastValues, lastErr)
	}

	res, err := a.Resource.resolve(env)
	if err != nil {
		return nil, err
	}
	var window <-chan time.Time
	if !a.HoldFor.IsZero() {
		t := env.Clock.NewTimer(a.HoldFor.Duration)
		defer t.Stop()
		window = t.C()
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var held atomic.Bool
	var violated error
	go func() {
		select {
		case <-window:
			held.Store(true)
			cancel()
		case <-wctx.Done():
		}
	}()
	err = watchUntil(wctx, a.Resource.query(res), func(objs []*unstructured.Unstructured) (bool, error) {
		out.Objects = len(objs)
		ok := eval(exprObjects(objs))
		if a.HoldFor.IsZero() {
			return ok, nil
		}
		if !ok {
			violated = a.failure(fmt.Sprintf("stopped holding after %s (it had to hold for %s)",
				env.Clock.Since(start).Round(time.Millisecond), a.HoldFor.Duration), lastValues, lastErr)
			return false, violated
		}
		return false, nil
	})
	switch {
	case violated != nil:
		return finish(), violated
	case held.Load() && ctx.Err() == nil:
		for _, g := range gapsWithin(env.Cluster.Outages(), start, env.Clock.Now()) {
			out.UnwatchedSeconds += g.End.Sub(g.Start).Seconds()
		}
		if out.UnwatchedSeconds > 0 {
			env.Log.Warn("the hold spans an outage: the assert could not watch for part of it",
				"unwatched", time.Duration(out.UnwatchedSeconds*float64(time.Second)).Round(time.Millisecond), "holdFor", a.HoldFor.Duration)
		}
		return finish(), nil
	case err == nil:
		return finish(), nil
	case kube.IsInfra(err):
		return finish(), err
	case isDeadline(err) || (ctx.Err() != nil && isDeadline(ctx.Err())):
		return finish(), a.failure(fmt.Sprintf("did not hold within %s", env.Clock.Since(start).Round(time.Millisecond)), lastValues, lastErr)
	}
	return finish(), err
}

// exprObjects turns watched objects into the object and objects names.
func exprObjects(objs []*unstructured.Unstructured) map[string]any {
	list := make([]any, len(objs))
	for i, o := range objs {
		list[i] = o.Object
	}
	var first any
	if len(objs) > 0 {
		first = objs[0].Object
	}
	return map[string]any{"object": first, "objects": list}
}

// failure words a failed assertion: what was expected, and what was seen.
func (a *Assert) failure(what string, values map[string]any, evalErr error) error {
	return &AssertionError{Msg: fmt.Sprintf("expected %s; it %s", a.Expr.Source, what) + expression.Seen(values, evalErr)}
}

// AssertionError is an expectation that did not hold.
type AssertionError struct{ Msg string }

func (e *AssertionError) Error() string { return e.Msg }

// Subjects names the watched object, for the diagnostics of a failure.
func (a *Assert) Subjects() []step.Subject { return subjectsOf(a.Resource) }
