package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WriteBackoff paces retries of idempotent writes: 5 tries over about 3 s.
var WriteBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5, Cap: 2 * time.Second}

// IsTransient reports whether a request failed in a way that trying again
// may fix: the API server was overloaded (429), failed or timed out (500,
// 502, 503, 504), or the connection was refused, reset or cut.
func IsTransient(err error) bool {
	// A deadline or cancel of kdrill's own is not the server's doing, though
	// context.DeadlineExceeded passes for a net.Error that timed out.
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	if apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch status.Status().Code {
		case 429, 500, 502, 503, 504:
			return true
		}
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}

// RetryWrite runs an idempotent write (a server-side apply, a merge patch,
// a delete), trying again with backoff while it fails transiently. Each
// retry is logged and counted in the step's result, so none is silent. A
// write that is not idempotent (a create) must not use it.
func (e *Env) RetryWrite(ctx context.Context, what string, write func(context.Context) error) error {
	backoff := WriteBackoff
	var err error
	for attempt := 1; ; attempt++ {
		if err = write(ctx); err == nil || !IsTransient(err) || backoff.Steps <= 1 {
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
