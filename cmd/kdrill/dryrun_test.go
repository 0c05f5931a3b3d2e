package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// A dry run prints the plan, lets the API server judge every write (a
// quota still refuses), and leaves the cluster as it was.
func TestDryRunChangesNothing(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	ctx := context.Background()
	replicas := int32(4)
	labels := map[string]string{"app": "web"}
	_, err := c.Typed.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web"}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Typed.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "no-configmaps"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/configmaps": resourceQuantity(t, "0")}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Wait until the pods run, so the kill has victims to plan.
	code, _, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", filepath.Join(t.TempDir(), "wait"), writeFile(t, t.TempDir(), "wait.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: wait}
spec:
  steps:
  - name: running
    assert: {resource: {kind: Deployment, name: web}, expr: object.status.availableReplicas == 4}
  - name: quota counted
    assert: {resource: {kind: ResourceQuota, name: no-configmaps}, expr: object.status.hard != nil}
`))
	if code != 0 {
		t.Fatalf("setup: %s", stderr)
	}
	podsBefore, _ := c.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})

	dir := t.TempDir()
	file := writeFile(t, dir, "plan.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: plan}
spec:
  steps:
  - name: service
    apply: {inline: {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}}
  - name: scale
    scale: {kind: Deployment, name: web, replicas: 9}
  - name: kill
    kill: {workload: {kind: Deployment, name: web}, count: 2}
  - name: quota refuses
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
      message: exceeded quota
  - name: check
    assert: {expr: "true"}
  finally:
  - name: remove
    delete: {kind: Deployment, name: web}
`)
	reportDir := filepath.Join(dir, "report")
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "-n", ns, "--dry-run", "--seed", "11", "--report-dir", reportDir, file)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"→ apply Service/web in namespace " + ns + ": accepted by the API server",
		"→ scale Deployment web from 4 to 9 replicas",
		"→ delete 2 of 4 eligible pods in " + ns + " (seed 11): web-",
		"→ the API server refuses each, as expected: Forbidden",
		"- check [assert]",
		"→ delete Deployment web",
		"dry run: every write was a server-side dry run; nothing was changed",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := c.Typed.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Error("the dry run created the Service")
	}
	d, err := c.Typed.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 4 || d.DeletionTimestamp != nil {
		t.Errorf("the dry run changed the Deployment: %v", err)
	}
	podsAfter, _ := c.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	for i, p := range podsAfter.Items {
		if p.DeletionTimestamp != nil || i >= len(podsBefore.Items) || p.Name != podsBefore.Items[i].Name {
			t.Errorf("the pods changed: %s", p.Name)
		}
	}
	if _, err := filepath.Glob(filepath.Join(reportDir, "*")); err == nil {
		if m, _ := filepath.Glob(filepath.Join(reportDir, "*")); len(m) > 0 {
			t.Errorf("a dry run wrote %v", m)
		}
	}
}

func resourceQuantity(t *testing.T, s string) resource.Quantity {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
