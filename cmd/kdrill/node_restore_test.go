package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/internal/nodestate"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// poolScenario is a scenario whose Deployment runs on the pool's nodes,
// with the given steps after it.
func poolScenario(pool *testcluster.NodePool, name, steps string) string {
	sel, tol := pool.PodSpecYAML()
	return fmt.Sprintf(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: %s}
spec:
  steps:
  - name: fleet
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: fleet}
        spec:
          replicas: 6
          selector: {matchLabels: {app: fleet}}
          template:
            metadata: {labels: {app: fleet, kdrill.dev/simulate: slow-start}}
            spec:
              terminationGracePeriodSeconds: 0
              nodeSelector: %s
              tolerations: %s
              containers: [{name: c, image: fleet:1}]
%s`, name, sel, tol, steps)
}

func TestInterruptDuringADrainLeavesNoNodeChanged(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	pool := testcluster.NewNodePool(t, 2)
	bin := buildKdrill(t)
	dir := t.TempDir()
	// A budget that allows one disruption at a time, on pods that take two
	// seconds to be Ready: the drain lasts several seconds.
	scenario := writeFile(t, dir, "drain.yaml", poolScenario(pool, "interrupted-drain", `  - name: budget
    apply:
      inline: {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: fleet}, spec: {maxUnavailable: 1, selector: {matchLabels: {app: fleet}}}}
  - name: drain
    node: {action: drain, selector: `+pool.Selector()+`, count: 1}
`))
	cmd := exec.Command(bin, "run", "-v", "--kubeconfig", kubeconfig, "--report-dir", dir+"/report", scenario)
	output := startUntil(t, cmd, "… drain [node]")
	<-time.After(time.Second) // the drain has cordoned its node and is evicting
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	out := output()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	if strings.Contains(out, "✓ drain [node]") {
		t.Fatalf("the drain ended before the interrupt; the test proves nothing:\n%s", out)
	}
	pool.AssertUntouched(t, 10*time.Second)
}

func TestRestoreUndoesWhatAKilledRunLeft(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	pool := testcluster.NewNodePool(t, 3)
	bin := buildKdrill(t)
	dir := t.TempDir()
	scenario := writeFile(t, dir, "fail.yaml", poolScenario(pool, "killed-during-fail", `  - name: taint
    node: {action: taint, name: `+pool.Nodes[1]+`, taint: {key: example.com/chaos, effect: NoSchedule}}
  - name: lose a node
    node: {action: fail, name: `+pool.Nodes[0]+`}
  - name: wait forever
    timeout: 1h
    sleep: {duration: 1h}
`))
	admin := testcluster.Admin(t)
	t.Cleanup(func() {
		// The killed run never deleted its namespace.
		list, err := admin.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: step.LabelScenario + "=killed-during-fail"})
		if err != nil {
			return
		}
		for _, ns := range list.Items {
			_ = admin.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		}
	})
	cmd := exec.Command(bin, "run", "-v", "--kubeconfig", kubeconfig, "--report-dir", dir+"/report", scenario)
	output := startUntil(t, cmd, "✓ lose a node [node]")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = output()

	// The killed run left both nodes changed, each with its record.
	for _, name := range pool.Nodes[:2] {
		n, err := admin.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !nodestate.Marked(n) {
			t.Fatalf("node %s carries no record after the kill: the test proves nothing", name)
		}
	}

	restore := exec.Command(bin, "restore", "--kubeconfig", kubeconfig, "-l", pool.Selector())
	got, err := restore.CombinedOutput()
	if err != nil {
		t.Fatalf("kdrill restore: %v\n%s", err, got)
	}
	for _, want := range []string{
		"restored " + pool.Nodes[0] + ": uncordoned, removed label " + nodestate.NotReadyLabel,
		"restored " + pool.Nodes[1] + ": removed taint example.com/chaos:NoSchedule",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("kdrill restore printed:\n%s\nwant a line %q", got, want)
		}
	}
	pool.AssertUntouched(t, 15*time.Second)

	// Again: nothing left to do.
	again, err := exec.Command(bin, "restore", "--kubeconfig", kubeconfig, "-l", pool.Selector()).CombinedOutput()
	if err != nil || !strings.Contains(string(again), "nothing to restore") {
		t.Errorf("second kdrill restore: %v\n%s", err, again)
	}
}

// A run killed while it partitions pods leaves its NetworkPolicy; kdrill
// restore -n removes it, and a second restore finds nothing.
func TestRestoreRemovesAPartitionAKilledRunLeft(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	testcluster.RealNode(t)
	ns := testcluster.Namespace(t, testcluster.Connect(t))
	bin := buildKdrill(t)
	dir := t.TempDir()
	pod := func(name, image string) string {
		return `{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `, labels: {app: ` + name + `}}, spec: {nodeSelector: {kdrill.dev/real: "true"}, ` +
			`tolerations: [{key: kdrill.dev/real, operator: Exists, effect: NoSchedule}], terminationGracePeriodSeconds: 0, ` +
			`containers: [{name: c, image: "` + image + `", imagePullPolicy: IfNotPresent}]}}`
	}
	scenario := writeFile(t, dir, "partition.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: killed-during-partition}
spec:
  steps:
  - name: pods
    apply: {wait: true, inline: [`+pod("server", "kdrill.local/toolbox:1")+`, `+pod("client", "kdrill.local/toolbox:1")+`]}
  - name: cut
    partition: {selector: app=server, from: {selector: app=client}}
  - name: wait forever
    timeout: 1h
    sleep: {duration: 1h}
`)
	cmd := exec.Command(bin, "run", "-v", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", dir+"/report", scenario)
	output := startUntil(t, cmd, "✓ cut [partition]")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = output()
	policies := testcluster.Admin(t).NetworkingV1().NetworkPolicies(ns)
	list, err := policies.List(context.Background(), metav1.ListOptions{LabelSelector: steps.PartitionLabel})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("after the kill: %v, %d partition policies; the test proves nothing", err, len(list.Items))
	}
	got, err := exec.Command(bin, "restore", "--kubeconfig", kubeconfig, "-n", ns).CombinedOutput()
	if err != nil || strings.Count(string(got), ": removed the partition cut") != 2 {
		t.Fatalf("kdrill restore -n %s: %v\n%s", ns, err, got)
	}
	if list, err := policies.List(context.Background(), metav1.ListOptions{LabelSelector: steps.PartitionLabel}); err != nil || len(list.Items) != 0 {
		t.Errorf("after restore: %v, %d partition policies", err, len(list.Items))
	}
	again, err := exec.Command(bin, "restore", "--kubeconfig", kubeconfig, "-n", ns).CombinedOutput()
	if err != nil || !strings.Contains(string(again), "nothing to restore") {
		t.Errorf("second kdrill restore: %v\n%s", err, again)
	}
}
