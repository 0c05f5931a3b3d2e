package steps_test

import (
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// The API server's request figures over a window in which the scenario
// sent three server-side applies, and since the server started.
func TestAPIServerMetricsOverAWindow(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `spec:
  steps:
  - name: window
    background: true
    metrics: {apiServer: true}
  - name: three applies
    apply:
      inline:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
  - name: stop
    stop: {steps: [window]}
  - name: since the start
    metrics:
      apiServer: true
      expect: apiServer.requests > steps.window.apiServer.requests && apiServer.latency.p99 >= apiServer.latency.p50
`, nil)
	for _, name := range []string{"window", "three applies", "stop", "since the start"} {
		wantOutcome(t, stepNamed(t, sr, name), model.Passed)
	}
	out := stepNamed(t, sr, "window").Output.(*model.MetricsOutput)
	a := out.APIServer
	if out.From.IsZero() || !out.To.After(out.From) {
		t.Errorf("window %s to %s", out.From, out.To)
	}
	if v := a.Verbs["APPLY"]; v == nil || v.Requests < 3 || v.Latency.Samples < 3 {
		t.Errorf("APPLY in the window: %+v, want at least the scenario's 3", v)
	}
	if a.Latency.P50.Duration <= 0 || a.Latency.P99.Duration < a.Latency.P50.Duration || a.ErrorRate < 0 || a.ErrorRate > 1 {
		t.Errorf("figures %+v", a)
	}
}

// The local cluster's Prometheus on the real node, asked through the API
// server's service proxy and through a port-forward, at an instant and over
// a window; a query Prometheus refuses, an answer of several series read as
// one value, and a Prometheus that is not there each say what happened.
func TestPrometheusOnTheRealNode(t *testing.T) {
	c := testcluster.Connect(t)
	testcluster.RealNode(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `spec:
  stepTimeout: 60s
  steps:
  - name: the API server is scraped
    metrics:
      prometheus: {service: {name: prometheus, namespace: monitoring}}
      query: sum(up{job="apiserver"})
      expect: result == 1
      until: true
  - name: the kubelet, through a port-forward
    metrics:
      prometheus: {portForward: {service: prometheus, namespace: monitoring, port: 9090}}
      query: up{job="kubelet"}
      expect: len(series) == 1 && series[0].labels.node == "kdrill-real" && series[0].value == 1
  - name: a window
    metrics:
      prometheus: {service: {name: prometheus, namespace: monitoring, port: 9090}}
      query: sum(rate(apiserver_request_total[20s]))
      duration: 11s
      resolution: 2s
      expect: max > 0 && min <= max && len(series[0].samples) >= 5
  - name: refused at run time
    continueOnError: true
    metrics:
      prometheus: {service: {name: prometheus, namespace: monitoring}}
      query: up + on() up
  - name: several series as one
    continueOnError: true
    metrics:
      prometheus: {service: {name: prometheus, namespace: monitoring}}
      query: up
      expect: result == 1
  - name: nobody there
    continueOnError: true
    metrics:
      prometheus: {url: "http://127.0.0.1:1"}
      query: up
  - name: nobody there, optional
    metrics:
      prometheus: {url: "http://127.0.0.1:1"}
      query: up
      optional: true
`, nil)
	wantOutcome(t, stepNamed(t, sr, "the API server is scraped"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "the kubelet, through a port-forward"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "a window"), model.Passed)
	win := stepNamed(t, sr, "a window").Output.(*model.MetricsOutput)
	if win.ResultType != "matrix" || win.To.Sub(win.From).Seconds() < 11 {
		t.Errorf("window: %s from %s to %s", win.ResultType, win.From, win.To)
	}
	wantOutcome(t, stepNamed(t, sr, "refused at run time"), model.Failed, "Prometheus answered 422 (execution)", "duplicate series")
	wantOutcome(t, stepNamed(t, sr, "several series as one"), model.Failed, "series, so result has no value; aggregate them")
	nobody := stepNamed(t, sr, "nobody there")
	if nobody.Outcome == model.Passed || nobody.Outcome == model.NotApplicable {
		t.Errorf("an unreachable Prometheus: %s", nobody.Outcome)
	}
	wantOutcome(t, nobody, nobody.Outcome, "no answer from prometheus http://127.0.0.1:1", "connection refused")
	wantOutcome(t, stepNamed(t, sr, "nobody there, optional"), model.NotApplicable, "(the check is optional)", "connection refused")
}
