package runner

import (
	"context"
	"fmt"

	"github.com/kdrill/kdrill/step"
)

// undoList is what steps asked to have put back when the scenario ends, by
// key, in the order asked.
type undoList struct {
	fns  map[string]step.Undo
	keys []string
}

// add keeps one function per key: a later one replaces it and keeps its
// place.
func (l *undoList) add(key string, fn step.Undo) {
	if l.fns == nil {
		l.fns = map[string]step.Undo{}
	}
	if _, ok := l.fns[key]; !ok {
		l.keys = append(l.keys, key)
	}
	l.fns[key] = fn
}

// Defer is step.Cleanup's.
func (e *scope) Defer(key string, undo step.Undo) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	e.shared.undo.add(key, undo)
}

// Created is step.Cleanup's.
func (e *scope) Created(key string, remove step.Undo) {
	e.shared.mu.Lock()
	defer e.shared.mu.Unlock()
	e.shared.remove.add(key, remove)
}

// runAll empties the list taken from the env's shared state and runs its
// functions, the last asked first; it returns what they said and the
// errors they met, each naming its key.
func (e *scope) runAll(ctx context.Context, list *undoList, what string) (done []string, errs []error) {
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
func (e *scope) undoAll(ctx context.Context) ([]string, []error) {
	return e.runAll(ctx, &e.shared.undo, "undo")
}

// removeAll removes what steps created outside the run's namespace.
func (e *scope) removeAll(ctx context.Context) ([]string, []error) {
	return e.runAll(ctx, &e.shared.remove, "remove")
}
