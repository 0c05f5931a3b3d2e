package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/step"
)

// buildKdrill builds the binary once per test binary run.
func buildKdrill(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kdrill")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startUntil starts the command and returns once a line of its stdout
// contains marker; the rest of stdout is collected into the returned func.
func startUntil(t *testing.T, cmd *exec.Cmd, marker string) func() string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	found := make(chan struct{})
	rest := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), marker) {
				signalled = true
				close(found)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		rest <- seen.String()
	}()
	select {
	case <-found:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("never printed %q; output so far:\n%s", marker, <-rest)
	}
	return func() string { return <-rest }
}

func TestInterruptRunsFinallyWritesResultsAndCleansUp(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	cluster := testcluster.Connect(t)
	bin := buildKdrill(t)
	dir := t.TempDir()
	scenario := writeFile(t, dir, "long.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: interrupted}
spec:
  steps:
  - name: marker
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: marker}}}
  - name: wait forever
    timeout: 1h
    sleep: {duration: 1h}
  finally:
  - name: cleanup
    delete: {kind: ConfigMap, name: marker, mustExist: true}
`)
	reportDir := filepath.Join(dir, "report")
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, scenario)
			output := startUntil(t, cmd, "✓ marker")
			<-time.After(300 * time.Millisecond) // let the long sleep start
			start := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			out := output()
			if cmd.ProcessState.ExitCode() != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", cmd.ProcessState.ExitCode(), err, tc.code, out)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s to stop", took)
			}
			for _, want := range []string{"⊘ wait forever [sleep]", "✓ finally: cleanup [delete]", "⊘ interrupted CANCELLED"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			sr := res.Scenarios[0]
			if res.Outcome != model.Cancelled || sr.Steps[2].Outcome != model.Passed {
				t.Errorf("results: run %s, cleanup %s", res.Outcome, sr.Steps[2].Outcome)
			}
			ns, err := cluster.Typed.CoreV1().Namespaces().Get(context.Background(), sr.Namespace, metav1.GetOptions{})
			if err == nil && ns.DeletionTimestamp == nil {
				t.Errorf("namespace %s left behind", sr.Namespace)
			}
		})
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	cluster := testcluster.Connect(t)
	t.Cleanup(func() {
		// kdrill exits without cleaning up, as asked: remove its namespace here.
		nss := cluster.Typed.CoreV1().Namespaces()
		list, err := nss.List(context.Background(), metav1.ListOptions{LabelSelector: step.LabelScenario + "=stuck-cleanup"})
		if err != nil {
			return
		}
		for _, ns := range list.Items {
			_ = nss.Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		}
	})
	bin := buildKdrill(t)
	dir := t.TempDir()
	scenario := writeFile(t, dir, "stuck.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: stuck-cleanup}
spec:
  steps:
  - name: started
    sleep: {duration: 10ms}
  - name: wait
    sleep: {duration: 1h}
  finally:
  - name: slow cleanup
    timeout: 1h
    sleep: {duration: 1h}
`)
	cmd := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--cleanup-timeout", "1h", "--report-dir", filepath.Join(dir, "r"), scenario)
	output := startUntil(t, cmd, "✓ started")
	_ = cmd.Process.Signal(os.Interrupt)
	<-time.After(300 * time.Millisecond)
	start := time.Now()
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	out := output()
	if cmd.ProcessState.ExitCode() != 130 {
		t.Errorf("exit %d, want 130\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second signal took %s to exit", took)
	}
	// What it leaves is named, on the console and in results.json.
	if !strings.Contains(out, "left behind: namespace kdrill-stuck-cleanup-") {
		t.Errorf("the namespace left behind is not named:\n%s", out)
	}
	res, err := reports.ReadJSON(filepath.Join(dir, "r", reports.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Scenarios) != 1 || len(res.Scenarios[0].LeftBehind) != 1 {
		t.Errorf("results.json: interrupted %v, scenarios %d", res.Interrupted, len(res.Scenarios))
	}
}
