package steps_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/steps"
)

func TestHTTPExpectationsAndRepeats(t *testing.T) {
	var version atomic.Value
	version.Store("1.0")
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch r.URL.Path {
		case "/info":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"version": version.Load().(string)})
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Method", r.Method)
			_, _ = w.Write([]byte(r.Header.Get("X-Token") + ":" + string(body)))
		case "/flaky":
			if n%2 == 0 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()

	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	body := strings.ReplaceAll(`
spec:
  steps:
  - name: info
    http: {url: "SRV/info", expect: 'status == 200 && json.version == "1.0" && headers["content-type"] == "application/json"'}
  - name: echo
    http:
      url: SRV/echo
      method: POST
      headers: {X-Token: secret-free}
      body: hello
      expect: 'body == "secret-free:hello" && headers["x-method"] == "POST"'
  - name: flaky tolerated
    http: {url: SRV/flaky, count: 6, every: 10ms, successRatio: 0.5}
  - name: flaky refused
    continueOnError: true
    http: {url: SRV/flaky, count: 4, every: 10ms, maxFailures: 1}
  - name: wrong version
    continueOnError: true
    http: {url: SRV/info, expect: 'json.version == "2.0"'}
  - name: nothing listens
    continueOnError: true
    http: {url: "http://127.0.0.1:1/", requestTimeout: 1s}
`, "SRV", srv.URL)
	sr := scenario(t, c, ns, body, nil)
	wantOutcome(t, stepNamed(t, sr, "info"), runner.Passed)
	wantOutcome(t, stepNamed(t, sr, "echo"), runner.Passed)
	wantOutcome(t, stepNamed(t, sr, "flaky tolerated"), runner.Passed)
	out := stepNamed(t, sr, "flaky tolerated").Output.(*steps.HTTPOutput)
	if out.Requests != 6 || out.Failures != 3 || out.SuccessRatio != 0.5 {
		t.Errorf("flaky: %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "flaky refused"), runner.Failed, "2 of 4 requests", "at most 1 allowed")
	wantOutcome(t, stepNamed(t, sr, "wrong version"), runner.Failed, `expected json.version == "2.0"; got status 200`)
	if v := stepNamed(t, sr, "wrong version").Values["json.version"]; v != "1.0" {
		t.Errorf("values seen: %v", stepNamed(t, sr, "wrong version").Values)
	}
	wantOutcome(t, stepNamed(t, sr, "nothing listens"), runner.Failed, "connection refused")
}
