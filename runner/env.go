package runner

import (
	"context"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

// Env is what a step sees while it runs: the cluster, the scenario's
// namespace and values, a clock and a seeded random source, and ways to
// record what it observed. Each step gets its own Env; steps running in the
// background share the scenario's outputs and timeline safely.
type Env struct {
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

	shared *shared
	record *model.StepResult
	// clusters are the scenario's spec.clusters, connected.
	clusters map[string]*kube.Cluster
	ready    func()
}

// shared is the state of one scenario run that its steps share.
type shared struct {
	mu      sync.Mutex
	outputs map[string]any
	// typed are the steps' outputs as they returned them (outputs holds
	// them as plain values for expressions).
	typed    map[string]any
	results  *model.Results
	scenario *model.ScenarioResult
	tasks    *tasks
	// progressAt is when each step last recorded its progress.
	progressAt map[*model.StepResult]time.Time
	// undo are the changes to shared objects (nodes) that steps asked to
	// have undone when the scenario ends; remove the objects they created
	// outside the run's namespace.
	undo, remove undoList
}

// NewEnv returns an Env for running steps outside a scenario run, as tests
// and benchmarks do.
func NewEnv(c *kube.Cluster, s *scenario.Scenario, namespace string, vars map[string]any) *Env {
	res := &model.Results{}
	return &Env{
		Cluster: c, Scenario: s, Namespace: namespace, Vars: vars,
		Clock: clock.RealClock{}, Seed: 1,
		Log:    slog.New(slog.DiscardHandler),
		shared: &shared{outputs: map[string]any{}, results: res, scenario: &model.ScenarioResult{}, tasks: newTasks()},
	}
}

// forStep returns a copy of the env for one step.
func (e *Env) forStep(st *scenario.Step, record *model.StepResult, log *slog.Logger) *Env {
	cp := *e
	cp.Step, cp.record, cp.Log = st, record, log
	if st.Vars != nil {
		cp.Vars = st.Vars
	}
	if c := e.clusters[st.Cluster]; c != nil {
		cp.Cluster = c
	}
	return &cp
}

// Ready tells the runner that a step running in the background is set up
// (a monitor's watches have their initial state), so the steps after it may
// start. The runner waits for it from steps that run until stopped.
func (e *Env) Ready() {
	if e.ready != nil {
		e.ready()
	}
}

// ExprEnv is the environment expressions evaluate in, with extra names
// (such as object) added.
func (e *Env) ExprEnv(extra map[string]any) map[string]any {
	e.shared.mu.Lock()
	var outputs map[string]any
	if prefix := e.prefix(); prefix == "" {
		outputs = maps.Clone(e.shared.outputs)
	} else {
		// An included step's steps.NAME are its own file's steps.
		outputs = map[string]any{}
		for k, v := range e.shared.outputs {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				outputs[rest] = v
			}
		}
	}
	e.shared.mu.Unlock()
	env := map[string]any{
		"vars":      e.Vars,
		"steps":     outputs,
		"namespace": e.Namespace,
	}
	maps.Copy(env, extra)
	return env
}

// Output returns an earlier step's output, as expressions see it.
func (e *Env) Output(name string) (any, bool) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	v, ok := e.shared.outputs[e.prefix()+name]
	return v, ok
}

// prefix is an included step's "<include>/": the names it gives other
// steps are its own file's.
func (e *Env) prefix() string {
	if e.Step == nil {
		return ""
	}
	return e.Step.Prefix
}

// scoped turns the step names an action gives into the scenario's.
func (e *Env) scoped(names []string) []string {
	p := e.prefix()
	if p == "" {
		return names
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func (e *Env) setOutput(name string, plain, typed any) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	e.shared.outputs[name] = plain
	if e.shared.typed == nil {
		e.shared.typed = map[string]any{}
	}
	e.shared.typed[name] = typed
	var monitors []string
	var loads []*model.LoadOutput
	partitions := map[string]*model.PartitionOutput{}
	for n, o := range e.shared.typed {
		switch x := o.(type) {
		case *model.MonitorOutput:
			monitors = append(monitors, n)
		case *model.LoadOutput:
			loads = append(loads, x)
		case *model.PartitionOutput:
			partitions[n] = x
		}
	}
	if len(monitors) == 0 {
		return
	}
	// What each fault cost needs every monitor, load and partition: it is
	// made again as each of them ends, for the results and for the
	// expressions of the steps after.
	var mons []*model.MonitorOutput
	for _, n := range monitors {
		mons = append(mons, e.shared.typed[n].(*model.MonitorOutput))
	}
	faults := model.Faults(mons, loads, partitions)
	e.shared.results.Update(func() {
		for _, m := range mons {
			m.Faults = faults
		}
	})
	plainFaults := expression.Plain(faults)
	for _, n := range monitors {
		if old, ok := e.shared.outputs[n].(map[string]any); ok {
			cp := maps.Clone(old)
			cp["faults"] = plainFaults
			e.shared.outputs[n] = cp
		}
	}
}

// Observe records an assertion's expression and the values it saw, so a
// failure (or a report) can show them.
func (e *Env) Observe(expression string, values map[string]any) {
	if e.record == nil {
		return
	}
	if red := e.redactor(); red != nil {
		values, _ = red.Value(values).(map[string]any)
	}
	e.shared.results.Update(func() {
		e.record.Expression = expression
		e.record.Values = values
	})
}

// progressEvery is the most often a step's progress is recorded.
const progressEvery = 200 * time.Millisecond

// Progress records how far a long step has come, for the live console and
// results.json; calls closer together than progressEvery are dropped, but
// for the last one a step makes with final set.
func (e *Env) Progress(values map[string]any, final bool) {
	if e.record == nil {
		return
	}
	now := e.Clock.Now()
	e.shared.mu.Lock()
	if e.shared.progressAt == nil {
		e.shared.progressAt = map[*model.StepResult]time.Time{}
	}
	due := final || now.Sub(e.shared.progressAt[e.record]) >= progressEvery
	if due {
		e.shared.progressAt[e.record] = now
	}
	e.shared.mu.Unlock()
	if due {
		e.shared.results.Update(func() { e.record.Progress = values })
	}
}

func (e *Env) redactor() *kube.Redactor {
	if e.Cluster == nil {
		return nil
	}
	return e.Cluster.Redactor
}

// Record adds an event to the scenario's timeline.
func (e *Env) Record(ev model.TimelineEvent) {
	if ev.Step == "" && e.Step != nil {
		ev.Step = e.Step.Name
	}
	e.shared.results.Update(func() {
		e.shared.scenario.Timeline = append(e.shared.scenario.Timeline, ev)
	})
}

// Timeline returns the scenario's events of a kind so far, in time order.
func (e *Env) Timeline(kind string) []model.TimelineEvent {
	var out []model.TimelineEvent
	e.shared.results.Read(func() {
		for _, ev := range e.shared.scenario.Timeline {
			if ev.Kind == kind {
				out = append(out, ev)
			}
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Join waits until the named background steps finish and returns an error
// naming any that failed.
func (e *Env) Join(ctx context.Context, names []string) error {
	return e.shared.tasks.join(ctx, e.scoped(names), false)
}

// Stop stops the named background steps and waits until they finish.
func (e *Env) Stop(ctx context.Context, names []string) error {
	return e.shared.tasks.join(ctx, e.scoped(names), true)
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
