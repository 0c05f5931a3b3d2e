package steps_test

import (
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// logs follows pod logs through the API server (kwok serves a simulated
// container's lines, and a crash-looping one's previous lines).
func TestLogsWaitForALine(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  vars: {replicas: 2}
  steps:
  - name: web
    apply: {file: web.yaml, wait: true}
  - name: ready line
    timeout: 10s # returns when the lines are there, stopping its followers
    logs: {selector: app=web, expr: 'any(lines, {# contains "ready"}) && len(lines) >= 6'}
  - name: crashing pod
    apply:
      inline: {apiVersion: v1, kind: Pod, metadata: {name: crash, labels: {kdrill.dev/simulate: crash-loop}}, spec: {containers: [{name: app, image: app}]}}
  - name: crash-looping
    assert: {resource: {kind: Pod, name: crash}, expr: 'object.status.containerStatuses[0].restartCount == 3'}
  - name: why it crashed
    timeout: 10s
    logs: {pod: crash, previous: true, expr: 'any(lines, {# startsWith "panic:"})'}
  - name: never said
    continueOnError: true
    timeout: 2s
    logs: {pod: crash, expr: 'any(lines, {# contains "never said"})'}
`, map[string]string{"web.yaml": deployment})
	wantOutcome(t, stepNamed(t, sr, "ready line"), model.Passed)
	if out := stepNamed(t, sr, "ready line").Output.(*model.LogsOutput); len(out.Pods) != 2 || out.Lines < 6 {
		t.Errorf("output %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "why it crashed"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "never said"), model.Failed, "it did not hold; last lines:", "ready")
}
