package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kdrill/kdrill/kube"
)

func TestIsTransient(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{apierrors.NewTooManyRequests("slow down", 1), true},
		{apierrors.NewServiceUnavailable("busy"), true},
		{apierrors.NewInternalError(errors.New("boom")), true},
		{apierrors.NewTimeoutError("slow", 1), true},
		{apierrors.NewGenericServerResponse(502, "PATCH", gr, "a", "bad gateway", 0, true), true},
		{&url.Error{Op: "Patch", URL: "https://x", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("apply: %w", &url.Error{Op: "Patch", URL: "https://x", Err: syscall.ECONNREFUSED}), true},
		{io.ErrUnexpectedEOF, true},
		{apierrors.NewConflict(gr, "a", errors.New("changed")), false},
		{apierrors.NewForbidden(gr, "a", errors.New("quota")), false},
		{apierrors.NewBadRequest("no"), false},
		{apierrors.NewNotFound(gr, "a"), false},
		{errors.New("expression does not hold"), false},
		{context.DeadlineExceeded, false},
		{&url.Error{Op: "Get", URL: "https://x", Err: context.DeadlineExceeded}, false},
		{nil, false},
	} {
		if got := kube.IsTransient(tc.err); got != tc.want {
			t.Errorf("kube.IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
