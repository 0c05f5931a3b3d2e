package steps_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// What an apply creates outside the run's namespace (in another namespace,
// or cluster-scoped) would outlive the namespace's deletion; it is removed
// when the scenario ends. What was there before stays, changed or not.
func TestObjectsCreatedOutsideTheNamespaceAreRemoved(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	other := testcluster.Namespace(t, c)
	ctx := context.Background()
	if _, err := c.Typed.CoreV1().ConfigMaps(other).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "there"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	class := "kdrill-e2e-" + strings.TrimPrefix(ns, "kdrill-test-")
	t.Cleanup(func() {
		_ = c.Typed.SchedulingV1().PriorityClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
	})
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: elsewhere
    apply:
      inline:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: made, namespace: `+other+`}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: there, namespace: `+other+`}, data: {by: kdrill}}
      - {apiVersion: scheduling.k8s.io/v1, kind: PriorityClass, metadata: {name: `+class+`}, value: 1000}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: mine}}
  - name: made
    assert: {resource: {kind: ConfigMap, name: made, namespace: `+other+`}, expr: object != nil}
`, nil)
	if sr.Outcome != model.Passed {
		t.Fatalf("%s: %s", sr.Outcome, sr.Error)
	}
	want := []string{"deleted PriorityClass " + class, "deleted ConfigMap made in namespace " + other}
	if !slices.Equal(sr.Removed, want) {
		t.Errorf("removed %q, want %q", sr.Removed, want)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(other).Get(ctx, "made", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap the run made in %s is still there: %v", other, err)
	}
	if _, err := c.Typed.SchedulingV1().PriorityClasses().Get(ctx, class, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the PriorityClass the run made is still there: %v", err)
	}
	there, err := c.Typed.CoreV1().ConfigMaps(other).Get(ctx, "there", metav1.GetOptions{})
	if err != nil || there.Data["by"] != "kdrill" {
		t.Errorf("the ConfigMap that was there before: %v %v", there, err)
	}
	if _, err := c.Typed.CoreV1().ConfigMaps(ns).Get(ctx, "mine", metav1.GetOptions{}); err != nil {
		t.Errorf("the run's own namespace is the namespace's to clean: %v", err)
	}
}
