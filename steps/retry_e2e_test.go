package steps_test

import (
	"net/http"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// Idempotent writes are tried again after transient API errors, and every
// retry is counted; a create is never retried.
func TestTransientWriteErrorsAreRetriedOnlyWhenIdempotent(t *testing.T) {
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

	proxy.FailNext(http.MethodPatch, 10, http.StatusTooManyRequests)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: apply that keeps failing
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}}
`, nil)
	st = stepNamed(t, sr, "apply that keeps failing")
	wantOutcome(t, st, model.Errored, "injected by the test proxy")
	if st.Retries != 4 {
		t.Errorf("retries %d, want 4 (5 tries)", st.Retries)
	}

	proxy.FailNext(http.MethodPost, 1, http.StatusServiceUnavailable)
	posts := proxy.Requests(http.MethodPost)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: a create is not retried
    expectRejection:
      inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
      reason: Forbidden
      message: anything
`, nil)
	st = stepNamed(t, sr, "a create is not retried")
	wantOutcome(t, st, model.Errored, "injected by the test proxy")
	if got := proxy.Requests(http.MethodPost) - posts; got != 1 || st.Retries != 0 {
		t.Errorf("the create was sent %d times (retries %d); want once", got, st.Retries)
	}

	proxy.FailNext(http.MethodPatch, 2, http.StatusServiceUnavailable)
	sr = runScenario(t, c, ns, `
spec:
  steps:
  - name: json patch is not retried
    continueOnError: true
    patch: {kind: ConfigMap, name: a, type: json, patch: [{op: add, path: /data/n, value: "1"}]}
  - name: merge patch is
    patch: {kind: ConfigMap, name: a, patch: {data: {n: "2"}}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "json patch is not retried"), model.Errored, "injected by the test proxy")
	if st := stepNamed(t, sr, "merge patch is"); st.Outcome != model.Passed || st.Retries != 1 {
		t.Errorf("merge patch: %s, %d retries; want passed after 1", st.Outcome, st.Retries)
	}
}
