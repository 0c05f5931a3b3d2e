package steps_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// onRealNode places a pod on the local cluster's real node.
const onRealNode = `
  nodeSelector: {kdrill.dev/real: "true"}
  tolerations: [{key: kdrill.dev/real, operator: Exists, effect: NoSchedule}]
  terminationGracePeriodSeconds: 1`

// realPods are a testing-service pod (it logs what it is told) and a
// toolbox pod (commands to run), on the real node.
const realPods = `apiVersion: v1
kind: Pod
metadata: {name: service, labels: {app: service}}
spec:` + onRealNode + `
  containers:
  - name: service
    image: kdrill.local/testing-service:1
    imagePullPolicy: IfNotPresent
    env: [{name: VERSION, value: "3.1"}]
    ports: [{name: http, containerPort: 9876}]
---
apiVersion: v1
kind: Pod
metadata: {name: toolbox, labels: {app: toolbox}}
spec:` + onRealNode + `
  containers:
  - {name: toolbox, image: "kdrill.local/toolbox:1", imagePullPolicy: IfNotPresent}
`

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
const latePod = `apiVersion: v1
kind: Pod
metadata: {name: late}
spec:` + onRealNode + `
  containers:
  - {name: toolbox, image: "kdrill.local/toolbox:1", imagePullPolicy: IfNotPresent}
`

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
    logs: {pod: kdrill, expr: 'any(lines, # startsWith "kdrill version dev-")'}
`, map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: kdrill}
spec:` + onRealNode + `
  restartPolicy: Never
  containers:
  - {name: kdrill, image: "kdrill.local/kdrill:dev", imagePullPolicy: Never, args: [--version]}
`})
	for _, name := range []string{"run", "it ran", "it said its version"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
}
