package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kdrill/kdrill/model"
)

// tasks are the background steps of one scenario run.
type tasks struct {
	mu     sync.Mutex
	byName map[string]*task
}

type task struct {
	step    *Step
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
	var failed []string
	for _, t := range list {
		select {
		case <-t.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for background step %q: %w", t.step.Name, ctx.Err())
		}
		if t.err != nil {
			failed = append(failed, fmt.Sprintf("%q: %v", t.step.Name, t.err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("background step %s", strings.Join(failed, "; "))
	}
	return nil
}

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
