package runner

import (
	"context"
	"log/slog"
	"maps"
	"math/rand/v2"

	"k8s.io/utils/clock"
)

// Env is what a step sees while it runs: the cluster, the scenario's
// namespace and values, a clock and a seeded random source, and a way to
// record what it observed.
type Env struct {
	Cluster   *Cluster
	Scenario  *Scenario
	Namespace string
	Vars      map[string]any
	// Outputs holds earlier steps' outputs by step name (steps.NAME).
	Outputs map[string]any
	Clock   clock.WithTicker
	Rand    *rand.Rand
	Log     *slog.Logger
	Step    *Step

	results *Results
	record  *StepResult
}

// ExprEnv is the environment expressions evaluate in, with extra names
// (such as object) added.
func (e *Env) ExprEnv(extra map[string]any) map[string]any {
	env := map[string]any{
		"vars":      e.Vars,
		"steps":     e.Outputs,
		"namespace": e.Namespace,
	}
	maps.Copy(env, extra)
	return env
}

// Expand evaluates a template in the expression environment.
func (e *Env) Expand(t *Template) (string, error) {
	if t == nil {
		return "", nil
	}
	return t.Expand(e.ExprEnv(nil))
}

// Observe records an assertion's expression and the values it saw, so a
// failure (or a report) can show them.
func (e *Env) Observe(expression string, values map[string]any) {
	if e.record == nil {
		return
	}
	e.results.Update(func() {
		e.record.Expression = expression
		e.record.Values = values
	})
}

type loggerKey struct{}

// WithLogger returns a context that carries l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the context's logger, or one that discards.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
