package runner_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/step"
)

// journal records, in order, what the test kinds below did.
var journal struct {
	sync.Mutex
	lines []string
}

func note(line string) {
	journal.Lock()
	defer journal.Unlock()
	journal.lines = append(journal.lines, line)
}

// journalled empties the journal and returns what it held.
func journalled() string {
	journal.Lock()
	defer journal.Unlock()
	out := strings.Join(journal.lines, " ")
	journal.lines = nil
	return out
}

// changeKind changes a shared object (in name only) and asks for the
// change to be undone when the scenario ends; Broken undos fail.
type (
	changeKind struct {
		Key    string
		Broken bool
	}
	noteKind struct{ Say string }
	makeKind struct{ Key string }
)

func (*changeKind) Default()        {}
func (*changeKind) Validate() error { return nil }
func (*makeKind) Default()          {}
func (*makeKind) Validate() error   { return nil }
func (*noteKind) Default()          {}
func (*noteKind) Validate() error   { return nil }

func (c *changeKind) Run(_ context.Context, env *step.Env) (any, error) {
	note("change:" + c.Key)
	env.Defer(c.Key, func(context.Context) (string, error) {
		note("undo:" + c.Key)
		if c.Broken {
			return "", errors.New("the object is gone")
		}
		return "restored " + c.Key, nil
	})
	return nil, nil
}

func (m *makeKind) Run(_ context.Context, env *step.Env) (any, error) {
	note("make:" + m.Key)
	env.Created(m.Key, func(context.Context) (string, error) {
		note("remove:" + m.Key)
		return "deleted " + m.Key, nil
	})
	return nil, nil
}

func (n *noteKind) Run(context.Context, *step.Env) (any, error) {
	note(n.Say)
	return nil, nil
}

// The undo runs after the steps, last change first, before the finally
// steps, whether the steps passed, failed or were cancelled; what it
// restored is recorded, and an undo that fails errors the scenario.
func TestRunLoopUndoesChangesBeforeFinally(t *testing.T) {
	journalled()
	const finally = `  finally:
  - {name: f, note: {say: finally}}
`
	sr, _ := runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, change: {key: n1}}
  - {name: b, change: {key: n2}}
  - {name: c, fail: {msg: boom}}
`+finally, runner.Options{})
	if got := journalled(); got != "change:n1 change:n2 undo:n2 undo:n1 finally" {
		t.Errorf("after a failure: %q", got)
	}
	if sr.Outcome != model.Failed || strings.Join(sr.Restored, ", ") != "restored n2, restored n1" {
		t.Errorf("outcome %s, restored %q", sr.Outcome, sr.Restored)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	sr, _ = runLoop(t, ctx, `spec:
  steps:
  - {name: a, change: {key: n1}}
  - {name: wait, block: {}}
`+finally, runner.Options{})
	if got := journalled(); got != "change:n1 undo:n1 finally" || len(sr.Restored) != 1 {
		t.Errorf("after a cancel: %q, restored %q", got, sr.Restored)
	}

	sr, _ = runLoop(t, context.Background(), `spec:
  steps:
  - {name: a, change: {key: n1, broken: true}}
`, runner.Options{})
	journalled()
	if sr.Outcome != model.Errored || !strings.Contains(sr.Error, "undo n1: the object is gone (kdrill restore retries it)") {
		t.Errorf("a failed undo: %s %q", sr.Outcome, sr.Error)
	}
}

// A step whose fields read what only the run knows is made again with
// the values when it starts; one that reads vars is expanded at load.
func TestRunLoopExpandsTemplatesWhenTheStepStarts(t *testing.T) {
	journalled()
	sr, _ := runLoop(t, context.Background(), `spec:
  vars: {app: web}
  steps:
  - {name: a, note: {say: "in ${{ namespace }}"}}
  - {name: b, note: {say: "${{ vars.app }}-${{ len(namespace) }}"}}
`, runner.Options{})
	if got := journalled(); sr.Outcome != model.Passed || got != "in team web-4" {
		t.Errorf("%s %q: said %q", sr.Outcome, sr.Error, got)
	}
}

// What a step created outside the namespace goes after the finally steps,
// the last made first, and stays when the namespace is kept.
func TestRunLoopRemovesWhatStepsCreatedAfterFinally(t *testing.T) {
	journalled()
	body := `spec:
  steps:
  - {name: a, make: {key: x}}
  - {name: b, make: {key: y}}
  - {name: c, fail: {msg: boom}}
  finally:
  - {name: f, note: {say: finally}}
`
	sr, _ := runLoop(t, context.Background(), body, runner.Options{})
	if got := journalled(); got != "make:x make:y finally remove:y remove:x" || strings.Join(sr.Removed, ", ") != "deleted y, deleted x" {
		t.Errorf("order %q, removed %q", got, sr.Removed)
	}
	sr, _ = runLoop(t, context.Background(), body, runner.Options{KeepNamespace: runner.KeepOnFailure})
	if got := journalled(); got != "make:x make:y finally" || len(sr.Removed) != 0 {
		t.Errorf("kept: order %q, removed %q", got, sr.Removed)
	}
}
