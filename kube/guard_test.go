package kube

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestGuardTransportRefusesSystemNamespaces sends requests through the wire
// guard: what it refuses never reaches the next transport.
func TestGuardTransportRefusesSystemNamespaces(t *testing.T) {
	reached := 0
	next := roundTripperFunc(func(*http.Request) (*http.Response, error) {
		reached++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	guard := guardTransport(next)
	// A step's policy: its label and whether it set allowUnsafe.
	type step struct{ allowUnsafe bool }
	unsafeStep, safeStep := &step{allowUnsafe: true}, &step{}
	for _, tc := range []struct {
		method, path string
		step         *step
		refused      string
	}{
		{"DELETE", "/api/v1/namespaces/kube-system/pods/coredns-1", safeStep, "refused to delete pods/coredns-1: kube-system is a system namespace"},
		{"DELETE", "/api/v1/namespaces/kube-public/pods", safeStep, "refused to delete pods: kube-public"},
		{"DELETE", "/apis/apps/v1/namespaces/kube-node-lease/deployments/x", nil, "kube-node-lease is a system namespace"},
		{"POST", "/api/v1/namespaces/kube-system/pods/p/eviction", safeStep, "refused to evict pods/p"},
		{"DELETE", "/api/v1/namespaces/kube-system", safeStep, "refused to delete the namespace kube-system"},
		{"DELETE", "/api/v1/namespaces/kube-system/pods/coredns-1", unsafeStep, ""},
		{"DELETE", "/api/v1/namespaces/team-a/pods/web-1", safeStep, ""},
		{"DELETE", "/api/v1/namespaces/team-a", safeStep, ""},
		{"GET", "/api/v1/namespaces/kube-system/pods", safeStep, ""},
		{"PATCH", "/apis/apps/v1/namespaces/kube-system/deployments/x", safeStep, ""},
		{"POST", "/api/v1/namespaces/kube-system/pods", safeStep, ""},
		{"DELETE", "/api/v1/nodes/n1", safeStep, ""},
	} {
		ctx := context.Background()
		if tc.step != nil {
			ctx = WithStepPolicy(ctx, "steps[0] \"x\"", tc.step.allowUnsafe)
		}
		req, _ := http.NewRequestWithContext(ctx, tc.method, "https://api.example"+tc.path, nil)
		before := reached
		_, err := guard.RoundTrip(req)
		var pe *PolicyError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s %s: refused: %v", tc.method, tc.path, err)
		case tc.refused != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s %s: got %v, want a refusal with %q", tc.method, tc.path, err, tc.refused)
		case tc.refused != "" && reached != before:
			t.Errorf("%s %s: a refused request reached the server", tc.method, tc.path)
		}
	}
}
