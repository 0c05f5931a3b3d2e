package steps_test

import (
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// A rollout that completes, where the scenario says it must fail, fails
// the step; one that fails otherwise than expected fails it too. (The
// rollout that must not complete, to an image that does not exist, is the
// shipped scenarios/real/bad-image.yaml, run on the real node.)
func TestExpectFailureFailsWhenTheStepSucceeds(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `spec:
  stepTimeout: 60s
  steps:
  - name: deploy
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: web:1.0}]}
  - name: a rollout that completes
    continueOnError: true
    expectFailure: true
    rollout: {kind: Deployment, name: web, images: {web: "web:2.0"}}
  - name: a rollout that completes, expected to time out
    continueOnError: true
    expectFailure: {message: timed out}
    rollout: {kind: Deployment, name: web, images: {web: "web:3.0"}}
  - name: a missing Deployment is not the failure expected
    continueOnError: true
    expectFailure: {message: timed out}
    rollout: {kind: Deployment, name: absent, images: {web: "web:3.0"}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "a rollout that completes"), model.Failed, "expected to fail, but it passed")
	wantOutcome(t, stepNamed(t, sr, "a rollout that completes, expected to time out"), model.Failed, `expected to fail with "timed out", but it passed`)
	wantOutcome(t, stepNamed(t, sr, "a missing Deployment is not the failure expected"), model.Failed, `failed, but not as expected: the error does not say "timed out"`)
	if sr.Outcome != model.Failed {
		t.Errorf("scenario %s", sr.Outcome)
	}
}
