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
	"github.com/kdrill/kdrill/step"
)

// scope is one step's side of a scenario run: what its step.Env is made
// of, and the capabilities step.Env offers (outputs, recorder, background
// steps, cleanup), over the state the scenario's steps share. Each step
// gets its own scope; steps running in the background share the
// scenario's state safely.
type scope struct {
	step.Values

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
	j        *journal
	scenario *model.ScenarioResult
	tasks    *tasks
	// progressAt is when each step last recorded its progress.
	progressAt map[*model.StepResult]time.Time
	// undo are the changes to shared objects (nodes) that steps asked to
	// have undone when the scenario ends; remove the objects they created
	// outside the run's namespace.
	undo, remove undoList
}

// NewEnv returns a step.Env for running steps outside a scenario run, as
// tests and benchmarks do.
func NewEnv(c *kube.Cluster, s *scenario.Scenario, namespace string, vars map[string]any) *step.Env {
	res := &model.Results{}
	return (&scope{
		Values: step.Values{
			Cluster: c, Scenario: s, Namespace: namespace, Vars: vars,
			Clock: clock.RealClock{}, Seed: 1, Log: slog.New(slog.DiscardHandler),
		},
		shared: &shared{outputs: map[string]any{}, j: newJournal(res, nil), scenario: &model.ScenarioResult{}, tasks: newTasks()},
	}).public()
}

// public is the step.Env the step runs with: the scope's values, and the
// scope as its capabilities.
func (e *scope) public() *step.Env {
	return &step.Env{Values: e.Values, Outputs: e, Recorder: e, Background: e, Cleanup: e}
}

// forStep returns a copy of the env for one step.
func (e *scope) forStep(st *scenario.Step, record *model.StepResult, log *slog.Logger) *scope {
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

// Ready is step.Background's.
func (e *scope) Ready() {
	if e.ready != nil {
		e.ready()
	}
}

// Visible is step.Outputs': the outputs this step sees, by name.
func (e *scope) Visible() map[string]any {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	prefix := e.prefix()
	if prefix == "" {
		return maps.Clone(e.shared.outputs)
	}
	// An included step's steps.NAME are its own file's steps.
	outputs := map[string]any{}
	for k, v := range e.shared.outputs {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			outputs[rest] = v
		}
	}
	return outputs
}

// Output returns an earlier step's output, as expressions see it.
func (e *scope) Output(name string) (any, bool) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	v, ok := e.shared.outputs[e.prefix()+name]
	return v, ok
}

// prefix is an included step's "<include>/": the names it gives other
// steps are its own file's.
func (e *scope) prefix() string {
	if e.Step == nil {
		return ""
	}
	return e.Step.Prefix
}

// scoped turns the step names an action gives into the scenario's.
func (e *scope) scoped(names []string) []string {
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

func (e *scope) setOutput(name string, plain, typed any) {
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
	// A recorded output is never changed, as snapshots share it: each
	// monitor's is replaced by a copy with the faults.
	e.shared.j.update(func() {
		for i, n := range monitors {
			withFaults := *mons[i]
			withFaults.Faults = faults
			e.shared.typed[n] = &withFaults
			for _, rec := range e.shared.scenario.Steps {
				if rec.Name == n && rec.Output == any(mons[i]) {
					rec.Output = &withFaults
				}
			}
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
func (e *scope) Observe(expression string, values map[string]any) {
	if e.record == nil {
		return
	}
	if red := e.redactor(); red != nil {
		values, _ = red.Value(values).(map[string]any)
	}
	e.progressed(false, func() {
		e.record.Expression = expression
		e.record.Values = values
	})
}

// progressEvery is the most often a step's progress is shown.
const progressEvery = 200 * time.Millisecond

// Progress records how far a long step has come, for the live console and
// results.json.
func (e *scope) Progress(values map[string]any, final bool) {
	if e.record == nil {
		return
	}
	e.progressed(final, func() { e.record.Progress = values })
}

// progressed records a running step's progress (fn) and shows it to the
// observers, at most every progressEvery but for a step's last (final).
func (e *scope) progressed(final bool, fn func()) {
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
	e.shared.j.update(fn)
	if due {
		e.shared.j.publish(model.StepProgress, e.shared.scenario, e.record)
	}
}

func (e *scope) redactor() *kube.Redactor {
	if e.Cluster == nil {
		return nil
	}
	return e.Cluster.Redactor
}

// Record adds an event to the scenario's timeline.
func (e *scope) Record(ev model.TimelineEvent) {
	if ev.Step == "" && e.Step != nil {
		ev.Step = e.Step.Name
	}
	e.shared.j.update(func() {
		e.shared.scenario.Timeline = append(e.shared.scenario.Timeline, ev)
	})
}

// Timeline returns the scenario's events of a kind so far, in time order.
func (e *scope) Timeline(kind string) []model.TimelineEvent {
	var out []model.TimelineEvent
	e.shared.j.read(func() {
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
func (e *scope) Join(ctx context.Context, names []string) error {
	return e.shared.tasks.join(ctx, e.scoped(names), false)
}

// Stop stops the named background steps and waits until they finish.
func (e *scope) Stop(ctx context.Context, names []string) error {
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
