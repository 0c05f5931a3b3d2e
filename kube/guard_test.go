package kube

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
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
		{"PATCH", "/apis/apps/v1/namespaces/kube-system/deployments/x", safeStep, "refused to write deployments/x: kube-system is a system namespace"},
		{"POST", "/api/v1/namespaces/kube-system/pods", safeStep, "refused to write pods"},
		{"PATCH", "/apis/apps/v1/namespaces/kube-system/deployments/x", unsafeStep, ""},
		{"POST", "/api/v1/namespaces/kube-system/pods/p/exec", safeStep, ""},
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

// Writes into a system namespace and bindings that give a role to every
// caller are refused on the wire unless the step lifted the policy; reads
// and exec into a system namespace's pods are not writes.
func TestGuardTransportRefusesSystemWritesAndBindingsToEveryone(t *testing.T) {
	s := &standIn{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := NewCluster(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Typed.AppsV1().Deployments("kube-system").Patch(ctx, "coredns", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{})
	var refused *PolicyError
	if !errors.As(err, &refused) || !strings.Contains(refused.Msg, "kube-system is a system namespace") {
		t.Errorf("scale of CoreDNS: %v", err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "open"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "Group", Name: "system:unauthenticated"}},
	}
	if _, err = c.Typed.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); !errors.As(err, &refused) || !strings.Contains(refused.Msg, "system:unauthenticated") {
		t.Errorf("binding cluster-admin to everyone: %v", err)
	}
	allowed := WithStepPolicy(ctx, "step", true)
	if _, err = c.Typed.RbacV1().ClusterRoleBindings().Create(allowed, crb, metav1.CreateOptions{}); errors.As(err, &refused) {
		t.Errorf("with allowUnsafe: %v", err)
	}
	if _, err = c.Typed.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); errors.As(err, &refused) {
		t.Errorf("a read: %v", err)
	}
}
