package steps_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
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

	// The server creates and deletes; the answers are lost. The run's
	// namespace is a create that kdrill names, so it may be sent again.
	proxy.FailAfter(http.MethodPost, 1, http.StatusInternalServerError)
	posts := proxy.Requests(http.MethodPost)
	started := time.Now()
	res := runner.Run(context.Background(), []*scenario.Scenario{loadInline(t, "lost-answer", `
spec:
  steps:
  - name: config
    apply: {inline: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}}
`, nil)}, runner.Options{Cluster: c, CleanupTimeout: 10 * time.Second})
	if sr := res.Scenarios[0]; sr.Outcome != model.Passed || proxy.Requests(http.MethodPost)-posts < 2 {
		t.Errorf("a namespace create whose answer was lost: %s %q after %d POSTs", sr.Outcome, sr.Error, proxy.Requests(http.MethodPost)-posts)
	}
	// The namespace that try made is the one the run used (and deleted), not
	// one more left behind (the retry could not read client-go's protobuf
	// body, took it for someone else's and made another).
	if list, err := testcluster.Connect(t).Typed.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{LabelSelector: "kdrill.dev/scenario=lost-answer"}); err != nil {
		t.Fatal(err)
	} else {
		for _, n := range list.Items {
			if n.DeletionTimestamp == nil && n.CreationTimestamp.After(started.Add(-time.Second)) {
				t.Errorf("namespace %s was left behind by a create whose answer was lost", n.Name)
			}
		}
	}
	proxy.FailAfter(http.MethodDelete, 1, http.StatusBadGateway)
	res = runner.Run(context.Background(), []*scenario.Scenario{loadInline(t, "lost-delete", `
spec:
  steps:
  - name: a delete whose answer was lost
    delete: {kind: ConfigMap, name: a}
`, nil)}, runner.Options{Cluster: c, Namespace: ns, AllowContexts: []string{c.Context}, CleanupTimeout: 10 * time.Second})
	if sr := res.Scenarios[0]; sr.Outcome != model.Passed {
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
