package step

import (
	"context"
	"log/slog"
	"maps"

	"k8s.io/utils/clock"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

// Env is what a step sees while it runs: the cluster, the scenario's
// namespace and values, a clock and a seeded random source, and the
// scenario run's capabilities, each narrow: the earlier steps' outputs,
// a recorder, the background steps, and cleanup. Each step gets its own
// Env; steps running in the background share the scenario's records
// safely.
type Env struct {
	Values
	Outputs
	Recorder
	Background
	Cleanup
}

// Values are what a step runs with, apart from the run's capabilities.
type Values struct {
	Cluster   *kube.Cluster
	Scenario  *scenario.Scenario
	Namespace string
	Vars      map[string]any
	Clock     clock.WithTicker
	// Seed is the scenario's recorded seed; steps that choose at random
	// derive their sources from it.
	Seed int64
	Log  *slog.Logger
	Step *scenario.Step
	// ProbeImage is the image kdrill's own probe pods run (--probe-image);
	// empty: the probing pod's own.
	ProbeImage string
	// SelfNode is the node kdrill runs on, which node steps leave alone.
	SelfNode string
}

// Outputs are the earlier steps' outputs, as this step sees them (an
// included step sees its own file's steps by their names there).
type Outputs interface {
	// Output returns an earlier step's output, as expressions see it.
	Output(name string) (any, bool)
	// Visible returns every output this step sees, by name: steps.NAME.
	Visible() map[string]any
}

// Recorder keeps what a step observed, in the scenario's results.
type Recorder interface {
	// Observe records an assertion's expression and the values it saw, so
	// a failure (or a report) can show them.
	Observe(expression string, values map[string]any)
	// Progress records how far a long step has come, for the live console
	// and results.json; calls too close together are dropped, but for the
	// last one a step makes with final set.
	Progress(values map[string]any, final bool)
	// Record adds an event to the scenario's timeline.
	Record(ev model.TimelineEvent)
	// Timeline returns the scenario's events of a kind so far, in time
	// order.
	Timeline(kind string) []model.TimelineEvent
}

// Background is the scenario's steps that run in the background.
type Background interface {
	// Ready tells the runner that a step running in the background is set
	// up (a monitor's watches have their initial state), so the steps
	// after it may start.
	Ready()
	// Join waits until the named background steps finish and returns an
	// error naming any that failed.
	Join(ctx context.Context, names []string) error
	// Stop stops the named background steps and waits until they finish.
	Stop(ctx context.Context, names []string) error
}

// Cleanup puts back, when the scenario ends, what steps changed outside
// what the run owns.
type Cleanup interface {
	// Defer asks for undo to run when the scenario ends, passed or failed,
	// timed out or interrupted, before its finally steps. One undo is kept
	// per key (a node's name): a later Defer with the same key replaces the
	// function and keeps its place.
	Defer(key string, undo Undo)
	// Created asks for remove to run when the scenario ends, after its
	// finally steps, where the run's namespace is deleted: for an object a
	// step created outside that namespace, which the namespace's deletion
	// would leave behind. One remove is kept per key.
	Created(key string, remove Undo)
}

// ExprEnv is the environment expressions evaluate in, with extra names
// (such as object) added.
func (e *Env) ExprEnv(extra map[string]any) map[string]any {
	env := map[string]any{
		"vars":      e.Vars,
		"steps":     e.Visible(),
		"namespace": e.Namespace,
	}
	maps.Copy(env, extra)
	return env
}
