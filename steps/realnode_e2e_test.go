package steps_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// realPod is a pod on the local cluster's real node, labelled app=NAME,
// running one container (a YAML flow mapping without its braces'
// contents: name, image and the rest); restart Never when once.
func realPod(name, container string, once bool) string {
	restart := ""
	if once {
		restart = "\n  restartPolicy: Never"
	}
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", labels: {app: " + name + "}}\nspec:\n" +
		"  nodeSelector: {kdrill.dev/real: \"true\"}\n" +
		"  tolerations: [{key: kdrill.dev/real, operator: Exists, effect: NoSchedule}]\n" +
		"  terminationGracePeriodSeconds: 1" + restart + "\n" +
		"  containers:\n  - {" + container + "}\n"
}

// toolboxPod is a real pod of kdrill.local/toolbox (it sleeps; commands
// run in it).
func toolboxPod(name string) string {
	return realPod(name, `name: toolbox, image: "kdrill.local/toolbox:1", imagePullPolicy: IfNotPresent`, false)
}

// realPods are a testing-service pod (it logs what it is told) and a
// toolbox pod (commands to run), on the real node.
var realPods = realPod("service", `name: service, image: "kdrill.local/testing-service:1", imagePullPolicy: IfNotPresent, `+
	`env: [{name: VERSION, value: "3.1"}], ports: [{name: http, containerPort: 9876}]`, false) + "---\n" + toolboxPod("toolbox")

// runOnRealNode runs steps (YAML list items) with their files against the
// local cluster, which must have its real node, in a namespace of the
// test's own.
func runOnRealNode(t *testing.T, steps string, files map[string]string) *model.ScenarioResult {
	t.Helper()
	c := testcluster.Connect(t)
	testcluster.RealNode(t)
	ns := testcluster.Namespace(t, c)
	return runScenario(t, c, ns, "spec:\n  stepTimeout: 60s\n  steps:"+steps, files)
}

// latePod is created while the real node is cordoned.
var latePod = toolboxPod("late")

// kdrill's cluster-facing kinds through a real kubelet and container
// runtime: exec, logs followed as they are written, a port-forward, and
// the diagnostics of a failed step holding the container's own log, a
// cordon of the real node, and a kill of a real pod.
func TestRealNodeKinds(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: pods
    apply: {file: pods.yaml, wait: true}
  - name: follow
    background: true
    logs: {pod: service, expr: 'any(lines, # contains "not ready")'}
  - name: forward
    http:
      portForward: {pod: service, path: /unready}
      method: POST
      expect: status == 200 && body contains "not ready"
  - name: followed
    wait: {steps: [follow]}
  - name: exec stdin and exit code
    podExec: {pod: toolbox, command: [cat], stdin: "from kdrill\n", expect: 'stdout == "from kdrill\n" && exitCode == 0'}
  - name: exec failing
    continueOnError: true
    podExec: {pod: toolbox, command: [cat, /no/such/file]}
  - name: fails on purpose
    timeout: 2s
    continueOnError: true
    assert:
      resource: {kind: Pod, name: service}
      expr: object.metadata.labels.never == "set"
  - name: cordon
    node: {action: cordon, selector: kdrill.dev/real=true}
  - name: late
    apply: {file: late.yaml}
  - name: stays pending
    assert: {resource: {kind: Pod, name: late}, holdFor: 3s, expr: object.status.phase == "Pending"}
  - name: uncordon
    node: {action: uncordon, selector: kdrill.dev/real=true}
  - name: runs
    assert: {resource: {kind: Pod, name: late}, expr: object.status.phase == "Running"}
  - name: kill
    kill: {selector: app=service, count: 1}
  - name: gone
    assert: {resource: {kind: Pod, name: service}, expr: object == nil}
`, map[string]string{"pods.yaml": realPods, "late.yaml": latePod})
	for _, name := range []string{"pods", "forward", "followed", "exec stdin and exit code", "cordon", "stays pending", "uncordon", "runs", "kill", "gone"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	wantOutcome(t, stepNamed(t, sr, "exec failing"), model.Failed, "exited 1", "can't open '/no/such/file'")
	diag := stepNamed(t, sr, "fails on purpose").Diagnostics
	if diag == nil {
		t.Fatal("the failed step has no diagnostics")
	}
	found := false
	for name, b := range diag.Contents {
		if strings.HasSuffix(name, ".log") && bytes.Contains(b, []byte("testing-service 3.1 listening on :9876")) {
			found = true
		}
	}
	if !found {
		t.Errorf("no container log of the real pod in the diagnostics: files %v", diag.Files)
	}
}

// kdrill's own image (kdrill.local/kdrill:dev, built from this checkout
// by the local cluster's set-up) runs on the real node, for runs inside
// the cluster.
func TestKdrillImageRunsOnTheRealNode(t *testing.T) {
	sr := runOnRealNode(t, `
  - name: run
    apply: {file: pod.yaml}
  - name: it ran
    assert:
      resource: {kind: Pod, name: kdrill}
      expr: object.status.phase == "Succeeded"
  - name: it said its version
    logs: {pod: kdrill, expr: 'any(lines, # startsWith "kdrill version ")'}
`, map[string]string{"pod.yaml": realPod("kdrill", `name: kdrill, image: "kdrill.local/kdrill:dev", imagePullPolicy: Never, args: [--version]`, true)})
	for _, name := range []string{"run", "it ran", "it said its version"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
}
