package runner

import (
	"context"
	"fmt"
)

// Undo undoes a change a step made to an object the scenario does not own.
// It must be idempotent: the scenario's end calls it even when a later step
// already put things back.
type Undo func(ctx context.Context) (string, error)

// undoList is what steps asked to have put back when the scenario ends, by
// key, in the order asked.
type undoList struct {
	fns  map[string]Undo
	keys []string
}

// add keeps one function per key: a later one replaces it and keeps its
// place.
func (l *undoList) add(key string, fn Undo) {
	if l.fns == nil {
		l.fns = map[string]Undo{}
	}
	if _, ok := l.fns[key]; !ok {
		l.keys = append(l.keys, key)
	}
	l.fns[key] = fn
}

// Defer asks for undo to run when the scenario ends, passed or failed,
// timed out or interrupted, before its finally steps. One undo is kept
// per key (a node's name): a later Defer with the same key replaces the
// function and keeps its place.
func (e *Env) Defer(key string, undo Undo) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	e.shared.undo.add(key, undo)
}

// Created asks for remove to run when the scenario ends, after its finally
// steps, where the run's namespace is deleted: for an object a step
// created outside that namespace (cluster-scoped, or in another one), which
// the namespace's deletion would leave behind. Whatever keeps the namespace
// (--keep-namespace) keeps these too. One remove is kept per key.
func (e *Env) Created(key string, remove Undo) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	e.shared.remove.add(key, remove)
}

// runAll empties the list taken from the env's shared state and runs its
// functions, the last asked first; it returns what they said and the
// errors they met, each naming its key.
func (e *Env) runAll(ctx context.Context, list *undoList, what string) (done []string, errs []error) {
	e.shared.mu.Lock()
	keys, fns := list.keys, list.fns
	*list = undoList{}
	e.shared.mu.Unlock()
	for i := len(keys) - 1; i >= 0; i-- {
		msg, err := fns[keys[i]](ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", what, keys[i], err))
		} else if msg != "" {
			done = append(done, msg)
		}
	}
	return done, errs
}

// undoAll runs the deferred undos.
func (e *Env) undoAll(ctx context.Context) ([]string, []error) {
	return e.runAll(ctx, &e.shared.undo, "undo")
}

// removeAll removes what steps created outside the run's namespace.
func (e *Env) removeAll(ctx context.Context) ([]string, []error) {
	return e.runAll(ctx, &e.shared.remove, "remove")
}
