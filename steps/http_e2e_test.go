package steps_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
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
	sr := runScenario(t, c, ns, body, nil)
	wantOutcome(t, stepNamed(t, sr, "info"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "echo"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "flaky tolerated"), model.Passed)
	out := stepNamed(t, sr, "flaky tolerated").Output.(*model.HTTPOutput)
	if out.Requests != 6 || out.Failures != 3 || out.SuccessRatio != 0.5 {
		t.Errorf("flaky: %+v", out)
	}
	wantOutcome(t, stepNamed(t, sr, "flaky refused"), model.Failed, "2 of 4 requests", "at most 1 allowed")
	wantOutcome(t, stepNamed(t, sr, "wrong version"), model.Failed, `expected json.version == "2.0"; got status 200`)
	if v := stepNamed(t, sr, "wrong version").Values["json.version"]; v != "1.0" {
		t.Errorf("values seen: %v", stepNamed(t, sr, "wrong version").Values)
	}
	wantOutcome(t, stepNamed(t, sr, "nothing listens"), model.Failed, "connection refused")
}

// hostAddress returns an address of this machine that is not loopback: the
// API server refuses to proxy to loopback endpoints.
func hostAddress(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
			return ipn.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine for the API server to proxy to")
	return ""
}

func TestHTTPThroughTheServiceProxy(t *testing.T) {
	addr := hostAddress(t)
	var version atomic.Value
	version.Store("1.0")
	lis, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/info" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "the proxy forwarded credentials", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"version": version.Load().(string), "query": r.URL.RawQuery})
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	port := lis.Addr().(*net.TCPAddr).Port

	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	// The API server proxies only to endpoints that are pods with that IP:
	// a pod bound to a node nobody runs (so kwok leaves it alone), with this
	// machine's address and Ready in its status, stands in for the server.
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "testing-service-v1", Labels: map[string]string{"app": "testing-service"}},
		Spec:       corev1.PodSpec{NodeName: "outside-kwok", Containers: []corev1.Container{{Name: "c", Image: "testing-service:1.0"}}},
	}
	pod, err = c.Typed.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: addr, PodIPs: []corev1.PodIP{{IP: addr}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
	if _, err := c.Typed.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("PORT", strconv.Itoa(port)).Replace(`
spec:
  steps:
  - name: service
    apply:
      inline:
      - {apiVersion: v1, kind: Service, metadata: {name: testing-service}, spec: {selector: {app: testing-service}, ports: [{name: web, port: 8080, targetPort: PORT}]}}
  - name: info
    timeout: 30s
    http:
      until: true
      service: {name: testing-service, port: web, path: "/info?from=kdrill"}
      expect: 'status == 200 && json.version == "1.0" && json.query == "from=kdrill"'
  - name: by port number, default scheme
    http:
      service: {name: testing-service, scheme: http, port: 8080, path: /info}
  - name: missing path
    continueOnError: true
    http:
      service: {name: testing-service, path: /nothing}
  - name: no such service
    continueOnError: true
    http:
      service: {name: nothing-here, path: /info}
  - name: selector without pods
    apply:
      inline: [{apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {selector: {app: none}, ports: [{port: 80}]}}]
  - name: never ready
    continueOnError: true
    timeout: 1s
    http: {until: true, service: {name: empty}}
`)
	sr := runScenario(t, c, ns, body, nil)
	wantOutcome(t, stepNamed(t, sr, "info"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "by port number, default scheme"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "missing path"), model.Failed, "got status 404: 404 page not found")
	wantOutcome(t, stepNamed(t, sr, "no such service"), model.Failed, `got status 404: services "nothing-here" not found`)
	wantOutcome(t, stepNamed(t, sr, "never ready"), model.Failed, "timed out: none of", "met the expectation; last: expected", "got status 503")
	out := stepNamed(t, sr, "info").Output.(*model.HTTPOutput)
	if out.Requests != out.Failures+1 || out.Status != 200 || !strings.Contains(out.Body, `"version":"1.0"`) {
		t.Errorf("info output %+v", out)
	}
}

// A port-forward reaches a simulated pod through the API server's
// pods/portforward, as kubectl port-forward does: on the local cluster, a
// pod's port 8080 answers /info as version 1.0 and 8081 as 2.0.
func TestHTTPThroughAPortForward(t *testing.T) {
	c := testcluster.Connect(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `
spec:
  steps:
  - name: two versions
    apply:
      wait: true
      inline:
      - {apiVersion: v1, kind: Pod, metadata: {name: blue, labels: {app: web, version: "1.0"}}, spec: {containers: [{name: c, image: web:1.0, ports: [{name: http, containerPort: 8080}]}]}}
      - {apiVersion: v1, kind: Pod, metadata: {name: green, labels: {app: web, version: "2.0"}}, spec: {containers: [{name: c, image: web:2.0, ports: [{name: http, containerPort: 8081}]}]}}
      - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web, version: "2.0"}, ports: [{port: 80, targetPort: http}]}}
  - name: the service's pod
    http:
      portForward: {service: web, path: /info}
      expect: 'status == 200 && json.version == "2.0"'
  - name: one pod by port name
    http:
      portForward: {pod: blue, port: http, path: /info}
      count: 3
      every: 100ms
      expect: 'json.version == "1.0"'
  - name: a path the pod does not serve
    continueOnError: true
    http: {portForward: {pod: blue, path: /nothing}}
  - name: a service without ready pods
    continueOnError: true
    apply:
      inline: [{apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {selector: {app: none}, ports: [{port: 80}]}}]
  - name: nothing to forward to
    continueOnError: true
    http: {portForward: {service: empty, path: /info}}
`, nil)
	wantOutcome(t, stepNamed(t, sr, "the service's pod"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "one pod by port name"), model.Passed)
	wantOutcome(t, stepNamed(t, sr, "a path the pod does not serve"), model.Failed, "got status 404")
	wantOutcome(t, stepNamed(t, sr, "nothing to forward to"), model.Failed, "service empty selects no Ready pod")
	if out := stepNamed(t, sr, "one pod by port name").Output.(*model.HTTPOutput); out.Requests != 3 || out.Failures != 0 {
		t.Errorf("output %+v", out)
	}
}
