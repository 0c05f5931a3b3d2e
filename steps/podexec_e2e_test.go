package steps_test

import (
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// podExec runs commands in simulated pods through the API server's
// pods/exec (kwok's ClusterExec runs them on this machine, in a directory
// standing for the container's file system).
func TestPodExecThroughTheAPIServer(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 2}
  steps:
  - name: web
    apply: {file: web.yaml, wait: true}
  - name: version file
    podExec: {selector: app=web, all: true, command: [cat, etc/app/version], expect: 'stdout == "2.0\n"'}
  - name: environment
    podExec: {selector: app=web, command: [printenv, APP_MODE], expect: 'stdout contains "production"'}
  - name: exit code
    podExec: {selector: app=web, command: [sh, -c, 'echo oops >&2; exit 4'], expect: 'exitCode == 4 && stderr contains "oops"'}
  - name: failing command
    continueOnError: true
    podExec: {selector: app=web, command: [sh, -c, 'echo no config >&2; exit 1']}
  - name: nothing ready
    continueOnError: true
    podExec: {selector: app=absent, command: ["true"]}
`, map[string]string{"web.yaml": deployment})
	for _, name := range []string{"version file", "environment", "exit code"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	if out := stepNamed(t, sr, "exit code").Output.(*model.ExecOutput); out.ExitCode != 4 {
		t.Errorf("exit code output %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "failing command"), model.Failed, "exited 1; expected exitCode == 0; stderr: no config")
	wantOutcome(t, stepNamed(t, sr, "nothing ready"), model.Failed, "no Ready pod matches -l app=absent")
}
