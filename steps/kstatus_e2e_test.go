package steps_test

import (
	"context"
	"os"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// apply's wait knows a custom resource's standard conditions (kstatus):
// it waits while Reconciling is true, finishes when it turns false, and
// fails with the resource's own message when it is Stalled.
func TestApplyWaitsForCustomResourcesConditions(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	crd, err := os.ReadFile("testdata/widgets-crd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = testcluster.Admin(t).Discovery().RESTClient().Delete().AbsPath("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.kdrill.dev").Do(context.Background()).Error()
	})
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: crd
    apply: {file: crd.yaml, wait: true}
  - name: widget is reconciled
    background: true
    timeout: 60s
    apply:
      wait: true
      inline:
        apiVersion: test.kdrill.dev/v1
        kind: Widget
        metadata: {name: w}
        status: {conditions: [{type: Reconciling, status: "True", reason: Working, message: still working}]}
  # The apply runs in the background: the widget may not exist yet.
  - name: widget exists
    assert: {resource: {kind: Widget, name: w}, expr: "object != nil && object.status.conditions[0].status == 'True'"}
  - name: done reconciling
    patch: {kind: Widget, name: w, patch: {status: {conditions: [{type: Reconciling, status: "False", reason: Done}]}}}
  - name: joined
    wait: {steps: [widget is reconciled]}
  - name: stalled
    continueOnError: true
    timeout: 30s
    apply:
      wait: true
      inline:
        apiVersion: test.kdrill.dev/v1
        kind: Widget
        metadata: {name: stuck}
        status: {conditions: [{type: Stalled, status: "True", reason: NoQuota, message: the widget quota is used up}]}
`, map[string]string{"crd.yaml": string(crd)})
	t.Cleanup(func() {
		if t.Failed() {
			for _, st := range sr.Steps {
				t.Logf("%s: %s %s", st.Name, st.Outcome, st.Error)
			}
		}
	})
	wantOutcome(t, stepNamed(t, sr, "widget exists"), model.Passed)
	waited, patched := stepNamed(t, sr, "widget is reconciled"), stepNamed(t, sr, "done reconciling")
	wantOutcome(t, waited, model.Passed)
	wantOutcome(t, patched, model.Passed)
	if waited.FinishedAt.Before(patched.StartedAt) {
		t.Errorf("apply's wait ended at %s, before the patch that turns Reconciling false started at %s", waited.FinishedAt, patched.StartedAt)
	}
	wantOutcome(t, stepNamed(t, sr, "joined"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "stalled"), model.Failed, "the widget quota is used up")
}

// apply's wait on a Job waits until it is complete (every completion
// done), not merely running; a Job that fails fails the step with its
// reason.
func TestApplyWaitsForJobsToComplete(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: job
    timeout: 90s
    apply:
      wait: true
      inline:
        apiVersion: batch/v1
        kind: Job
        metadata: {name: work}
        spec:
          completions: 6
          parallelism: 2
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox}]
  - name: complete when the wait ends
    timeout: 1s
    assert:
      resource: {kind: Job, name: work}
      expr: object.status.succeeded == 6
  - name: failing job
    continueOnError: true
    timeout: 60s
    apply:
      wait: true
      inline:
        apiVersion: batch/v1
        kind: Job
        metadata: {name: never}
        spec:
          activeDeadlineSeconds: 2
          template:
            spec:
              restartPolicy: Never
              nodeSelector: {kdrill.dev/no-such-node: "true"}
              containers: [{name: c, image: busybox}]
`, nil)
	wantOutcome(t, stepNamed(t, sr, "job"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "complete when the wait ends"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "failing job"), model.Failed, "Job failed: DeadlineExceeded")
}
