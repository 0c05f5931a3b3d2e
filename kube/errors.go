package kube

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// KubeconfigError is a kubeconfig that cannot be used: missing, broken,
// or without the context asked for.
type KubeconfigError struct{ Err error }

func (e *KubeconfigError) Error() string { return "kubeconfig: " + e.Err.Error() }
func (e *KubeconfigError) Unwrap() error { return e.Err }

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
