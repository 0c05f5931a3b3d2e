package steps_test

import (
	"net/http"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// The retry policy: writes and reads are tried again after transient
// API errors within the step's deadline, and every retry is counted; a
// write whose answer was lost after the server did it succeeds once; a
// write that would do its work twice is not sent again.
func TestTransientErrorsAreRetriedWithinTheStepDeadline(t *testing.T) {
	proxy := testcluster.StartProxy(t)
	ns := testcluster.Namespace(t, testcluster.Connect(t))
	c := proxy.Cluster(t)

	proxy.FailNext(http.MethodPatch, 2, http.StatusServiceUnavailable)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: apply through two 503s
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v}}}
`, nil)
	st := stepNamed(t, sr, "apply through two 503s")
	wantOutcome(t, st, model.Passed)
	if st.Retries != 2 {
		t.Errorf("retries %d, want 2", st.Retries)
	}

	proxy.FailNext(http.MethodPatch, 1000, http.StatusTooManyRequests)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: apply that keeps failing
    timeout: 2s
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}}
`, nil)
	proxy.FailNext(http.MethodPatch, 0, 0)
	st = stepNamed(t, sr, "apply that keeps failing")
	wantOutcome(t, st, model.Errored, "injected by the test proxy")
	if st.Retries < 3 {
		t.Errorf("retries %d, want tries until the 2s deadline", st.Retries)
	}

	// The server creates and deletes; the answers are lost.
	proxy.FailAfter(http.MethodPost, 1, http.StatusInternalServerError)
	posts := proxy.Requests(http.MethodPost)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: a create whose answer was lost
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
      reason: Forbidden
      message: anything
    continueOnError: true
`, nil)
	st = stepNamed(t, sr, "a create whose answer was lost")
	wantOutcome(t, st, model.Failed, "ConfigMap c was created")
	if got := proxy.Requests(http.MethodPost) - posts; got != 2 || st.Retries != 1 {
		t.Errorf("the create was sent %d times (retries %d); want twice", got, st.Retries)
	}
	proxy.FailAfter(http.MethodDelete, 1, http.StatusBadGateway)
	sr = runScenario(t, c, ns, `
spec:
  contexts: [proxy]
  steps:
  - name: a delete whose answer was lost
    delete: {kind: ConfigMap, name: a}
`, nil)
	if sr.Outcome != model.Passed {
		t.Errorf("a delete whose answer was lost: %s %q", sr.Outcome, sr.Error)
	}

	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: create d
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: d}}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "create d"), model.Passed)
	proxy.FailNext(http.MethodPatch, 2, http.StatusServiceUnavailable)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: json patch is not retried
    continueOnError: true
    patch: {kind: ConfigMap, name: d, type: json, patch: [{op: add, path: /data, value: {n: "1"}}]}
  - name: merge patch is
    patch: {kind: ConfigMap, name: d, patch: {data: {n: "2"}}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "json patch is not retried"), model.Errored, "injected by the test proxy")
	if st := stepNamed(t, sr, "merge patch is"); st.Outcome != model.Passed || st.Retries != 1 {
		t.Errorf("merge patch: %s, %d retries; want passed after 1 (%s)", st.Outcome, st.Retries, st.Error)
	}
}
