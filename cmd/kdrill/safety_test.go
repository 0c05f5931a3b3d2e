package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// Every way a scenario can point a disrupting step at kube-system is
// refused, and kube-system's pods are the same pods afterwards. Only
// allowUnsafe lets a step through, and then it really acts.
func TestSystemNamespacesAreSpared(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	c := testcluster.Admin(t)
	ctx := context.Background()
	victims := startVictims(t, c)

	for _, tc := range []struct {
		file string
		args []string
		code int
		want string
	}{
		{"selector-step-namespace.yaml", nil, exitInvalid, `selector-step-namespace.yaml:7: steps[0] "kill by selector": kill.namespace: kube-system is a system namespace; disrupting steps refuse it unless the step sets allowUnsafe: true`},
		{"workload-namespace.yaml", nil, exitInvalid, `workload-namespace.yaml:7: steps[0] "kill the workload's pods": kill.workload.namespace: kube-system is a system namespace`},
		{"scenario-namespace.yaml", nil, exitInvalid, `scenario-namespace.yaml:8: steps[0] "poisson kills": killPoisson: kube-system is a system namespace, the scenario's namespace`},
		{"flag-namespace.yaml", []string{"-n", "kube-system"}, exitInvalid, `flag-namespace.yaml:6: steps[0] "kill where -n says": kill: kube-system is a system namespace (given with -n)`},
		{"delete-by-name.yaml", nil, exitInvalid, `delete-by-name.yaml:7: steps[0] "delete the deployment": delete.namespace: kube-system is a system namespace`},
		{"delete-by-selector.yaml", nil, exitInvalid, `delete-by-selector.yaml:7: steps[0] "delete the pods": delete.namespace: kube-system is a system namespace`},
		// Only the API server knows which namespaces a selector matches: the
		// wire guard refuses the DELETE before it is sent.
		{"delete-namespace-by-selector.yaml", nil, exitFailed, "refused to delete the namespace kube-system: kube-system is a system namespace"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			args := append([]string{"run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(t.TempDir(), "r")}, tc.args...)
			code, stdout, stderr := kdrill(t, append(args, filepath.Join("testdata/safety", tc.file))...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, stdout, stderr)
			}
			if got := podUIDs(t, c); !slices.Equal(got, victims) {
				t.Fatalf("kube-system's pods changed: %v, were %v", got, victims)
			}
			if _, err := c.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
				t.Fatalf("kube-system: %v", err)
			}
		})
	}

	// allowUnsafe: the step does what it says.
	code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", filepath.Join(t.TempDir(), "r"), "testdata/safety/allowed.yaml")
	if code != 0 {
		t.Fatalf("allowed: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := podUIDs(t, c); slices.Equal(got, victims) {
		t.Errorf("allowUnsafe: no pod of kube-system was killed")
	}
}

// startVictims runs a Deployment of three pods in kube-system for the
// safety test to aim at, and returns their UIDs once they run.
func startVictims(t *testing.T, c kubernetes.Interface) []string {
	t.Helper()
	ctx := context.Background()
	replicas := int32(3)
	labels := map[string]string{"app": "kdrill-victim"}
	deployments := c.AppsV1().Deployments("kube-system")
	removeVictims(t, c)
	_, err := deployments.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "kdrill-victim"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "v", Image: "v"}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeVictims(t, c) })
	var uids []string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		uids = podUIDs(t, c)
		return len(uids) == 3, nil
	})
	if err != nil {
		t.Fatalf("kube-system's victims did not start: %v (%d running)", err, len(uids))
	}
	return uids
}

// removeVictims deletes the victims' Deployment, if any, and waits until
// it and its pods are gone.
func removeVictims(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	policy := metav1.DeletePropagationForeground
	err := c.AppsV1().Deployments("kube-system").Delete(ctx, "kdrill-victim", metav1.DeleteOptions{PropagationPolicy: &policy})
	if apierrors.IsNotFound(err) {
		return
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		_, err := c.AppsV1().Deployments("kube-system").Get(ctx, "kdrill-victim", metav1.GetOptions{})
		pods, _ := c.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "app=kdrill-victim"})
		return apierrors.IsNotFound(err) && pods != nil && len(pods.Items) == 0, nil
	})
	if err != nil {
		t.Fatalf("kube-system's victims are not gone: %v", err)
	}
}

// podUIDs lists the UIDs of the victim pods that run and are not being
// deleted, sorted.
func podUIDs(t *testing.T, c kubernetes.Interface) []string {
	t.Helper()
	list, err := c.CoreV1().Pods("kube-system").List(context.Background(), metav1.ListOptions{LabelSelector: "app=kdrill-victim"})
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			uids = append(uids, string(p.UID))
		}
	}
	slices.Sort(uids)
	return uids
}
