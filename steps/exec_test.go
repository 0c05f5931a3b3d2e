package steps_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// runExec loads one exec step and runs it on a fake cluster whose
// kubeconfig points nowhere: these tests are about the command, not the
// cluster.
func runExec(t *testing.T, spec string, timeout time.Duration) (*model.ExecOutput, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	text := "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: ex}\nspec:\n  vars: {greeting: hello, n: 3}\n  steps:\n  - name: e\n    exec: " + spec + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(path, steps.Registry)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	c := testcluster.Fake()
	c.Config = &rest.Config{Host: "https://kube.example:6443", BearerToken: "t0k3n"}
	env := runner.NewEnv(c, s, "team", s.Spec.Vars)
	env.Step = s.Spec.Steps[0]
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := s.Spec.Steps[0].Action.(step.Action).Run(ctx, env)
	o, _ := out.(*model.ExecOutput)
	return o, err
}

func TestExec(t *testing.T) {
	out, err := runExec(t, `{script: 'echo "$KDRILL_VAR_GREETING $KDRILL_VAR_N $KDRILL_NAMESPACE $KDRILL_SCENARIO"; grep -c "namespace: team" "$KUBECONFIG"; grep -c kube.example "$KUBECONFIG"', expect: 'stdout contains "hello 3 team ex"'}`, 5*time.Second)
	if err != nil || out.Stdout != "hello 3 team ex\n1\n1\n" {
		t.Errorf("environment: %v %+v", err, out)
	}
	out, err = runExec(t, `{command: [sh, -c, 'echo "{\"items\": [1, 2]}"'], expect: 'len(json.items) == 2 && exitCode == 0'}`, 5*time.Second)
	if err != nil || out.JSON == nil {
		t.Errorf("json: %v %+v", err, out)
	}
	_, err = runExec(t, `{script: 'echo starting; echo "cannot reach the registry" >&2; exit 3'}`, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited 3; expected exitCode == 0; stderr: cannot reach the registry") {
		t.Errorf("non-zero exit: %v", err)
	}
	_, err = runExec(t, `{command: [kdrill-no-such-program, x]}`, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), `command "kdrill-no-such-program x": not found on PATH`) {
		t.Errorf("missing binary: %v", err)
	}
	out, err = runExec(t, `{stdin: "line one", command: [cat], expect: 'stdout == "line one"'}`, 5*time.Second)
	if err != nil {
		t.Errorf("stdin: %v %+v", err, out)
	}
}

// A command past the step's time is killed with every process it started.
func TestExecTimeoutKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	start := time.Now()
	_, err := runExec(t, `{script: 'sleep 30 & echo $! > `+pidFile+`; wait'}`, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not finish in time; it was killed") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the timeout did not end it", d)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(2 * time.Second)
	for running(pid) && time.Now().Before(deadline) {
		runtimeYield()
	}
	if running(pid) {
		t.Errorf("the command's child %d still runs", pid)
	}
}

// running says whether the process runs: a zombie (killed, not yet reaped
// by whichever process adopted it) does not.
func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ")".
	_, rest, _ := strings.Cut(string(stat[bytes.LastIndexByte(stat, ')')+1:]), " ")
	return !strings.HasPrefix(rest, "Z")
}

func runtimeYield() { time.Sleep(10 * time.Millisecond) } //nolint:forbidigo // polling a process that is not ours to wait on
