package runner

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdrill/kdrill/kube"
)

// WriteBackoff paces retries of idempotent writes: 5 tries over about 3 s.
var WriteBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5, Cap: 2 * time.Second}

// RetryWrite runs an idempotent write (a server-side apply, a merge patch,
// a delete), trying again with backoff while it fails transiently. Each
// retry is logged and counted in the step's result, so none is silent. A
// write that is not idempotent (a create) must not use it.
func (e *Env) RetryWrite(ctx context.Context, what string, write func(context.Context) error) error {
	backoff := WriteBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = write(ctx); err == nil || !kube.IsTransient(err) || backoff.Steps <= 1 {
			break
		}
		wait := backoff.Step()
		if e.Log != nil {
			e.Log.Warn("retrying a write after a transient error", "write", what, "attempt", attempt, "in", wait, "err", err)
		}
		e.noteRetry()
		t := e.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d tries: %w)", ctx.Err(), attempt, err)
		case <-t.C():
		}
	}
	return err
}

// noteRetry counts a retried write in the step's result.
func (e *Env) noteRetry() {
	if e.record == nil || e.shared == nil {
		return
	}
	e.shared.results.Update(func() { e.record.Retries++ })
}
