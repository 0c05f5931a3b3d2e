package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
)

// tasks are the background steps of one scenario run.
type tasks struct {
	mu     sync.Mutex
	byName map[string]*task
}

type task struct {
	step    *scenario.Step
	result  *model.StepResult
	cancel  context.CancelFunc
	done    chan struct{}
	ready   chan struct{}
	once    sync.Once
	err     error
	stopped bool
}

func newTasks() *tasks { return &tasks{byName: map[string]*task{}} }

func (ts *tasks) add(t *task) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.byName[t.step.Name] = t
}

// join waits for the named tasks (all when names is empty), stopping them
// first when stop is set.
func (ts *tasks) join(ctx context.Context, names []string, stop bool) error {
	ts.mu.Lock()
	var list []*task
	if len(names) == 0 {
		for _, t := range ts.byName {
			list = append(list, t)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].step.Index < list[j].step.Index })
	}
	for _, n := range names {
		t, ok := ts.byName[n]
		if !ok {
			ts.mu.Unlock()
			return fmt.Errorf("no background step named %q has started", n)
		}
		list = append(list, t)
	}
	if stop {
		for _, t := range list {
			t.stopped = true
			t.cancel()
		}
	}
	ts.mu.Unlock()
	var failed failures
	for _, t := range list {
		select {
		case <-t.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for background step %q: %w", t.step.Name, ctx.Err())
		}
		if t.err != nil {
			failed = append(failed, fmt.Errorf("%q: %w", t.step.Name, t.err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("background step %w", failed)
	}
	return nil
}

// failures are the background steps' errors, each keeping its class.
type failures []error

func (f failures) Error() string {
	msgs := make([]string, len(f))
	for i, err := range f {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (f failures) Unwrap() []error { return f }

// finish ends every background task at the end of a scenario's steps:
// continuous ones (and all of them when the steps failed) are stopped, the
// others are waited for.
func (ts *tasks) finish(ctx context.Context, stopAll bool) {
	ts.mu.Lock()
	for _, t := range ts.byName {
		if stopAll || t.step.Info.Continuous {
			t.stopped = true
			t.cancel()
		}
	}
	ts.mu.Unlock()
	_ = ts.join(ctx, nil, false)
}

func (ts *tasks) wasStopped(t *task) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return t.stopped
}

// background starts a step that runs beside the following ones; a wait or
// stop step, or the end of the steps, joins it.
func (r *run) background(sctx, runCtx context.Context, env *scope, st *scenario.Step, sr *model.ScenarioResult, stepRes *model.StepResult) {
	bctx, cancel := context.WithCancel(sctx)
	t := &task{step: st, result: stepRes, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
	env.shared.tasks.add(t)
	r.stepRecord(sr, stepRes).set(func(res *model.StepResult) { res.Outcome = model.Running })
	go func() {
		defer close(t.done)
		defer cancel()
		t.err = r.step(bctx, runCtx, env, st, sr, stepRes, t)
	}()
	// A step that runs until stopped (a monitor) says when it is set up; the
	// next step starts only then, so it cannot act before it is observed.
	if st.Info.Continuous {
		select {
		case <-t.ready:
		case <-t.done:
		case <-sctx.Done():
		}
	}
}
