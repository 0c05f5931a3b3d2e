package steps_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// loggingProxy stands between the load and the Service, and logs every
// request it passes on: its status and how long the Service took.
type loggingProxy struct {
	mu       sync.Mutex
	statuses []int
	took     []time.Duration
}

func (p *loggingProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		p.mu.Lock()
		p.statuses = append(p.statuses, rec.status)
		p.took = append(p.took, time.Since(began))
		p.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Load on real pods while Poisson kills take them away: kdrill's counts
// agree exactly with the log a proxy in front of the Service kept, its p99
// with the proxy's within 5 %, and the kills' cost shows as failed or slow
// requests.
func TestLoadDuringPoissonKillsOnTheRealNode(t *testing.T) {
	c := testcluster.Connect(t)
	testcluster.RealNode(t)
	ns := testcluster.Namespace(t, c)
	sr := runScenario(t, c, ns, `spec:
  stepTimeout: 90s
  steps:
  - name: deploy
    apply: {file: web.yaml, wait: true}
`, map[string]string{"web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {kdrill.dev/real: "true"}
      tolerations: [{key: kdrill.dev/real, operator: Exists, effect: NoSchedule}]
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: kdrill.local/testing-service:1
        imagePullPolicy: IfNotPresent
        ports: [{name: http, containerPort: 9876}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`})
	if sr.Outcome != model.Passed {
		t.Fatalf("deploy: %s %s", sr.Outcome, sr.Error)
	}
	// The proxy passes the requests on through the API server's service
	// proxy, which spreads them over the Service's ready endpoints.
	transport, err := rest.TransportFor(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	backend, _ := url.Parse(c.Config.Host)
	backend.Path = "/api/v1/namespaces/" + ns + "/services/web:http/proxy"
	rp := httputil.NewSingleHostReverseProxy(backend)
	rp.Transport = transport
	proxy := &loggingProxy{}
	front := httptest.NewServer(proxy.wrap(rp))
	defer front.Close()

	sr = runScenario(t, c, ns, `spec:
  stepTimeout: 90s
  steps:
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: web}]}
  - name: load
    background: true
    load: {url: "`+front.URL+`/info", rate: 40, requestTimeout: 2s, slow: 50ms}
  - name: kills
    killPoisson: {workload: {kind: Deployment, name: web}, mode: rounds, mean: 1, interval: 2s, rounds: 4, recover: true}
  - name: end the load
    stop: {steps: [load, availability]}
  - name: users were served
    assert: {expr: 'steps.load.requests > 200 && steps.load.errorRate < 0.5 && steps.load.latency.p99 > duration("0s")'}
  - name: each kill round is a fault with its cost
    assert:
      expr: >-
        len(steps.availability.faults) == len(filter(steps.kills.rounds, .killed > 0)) &&
        all(steps.availability.faults, .requests > 0 && .cause == "kill" && .podSecondsBelowDesired > 0)
`, nil)
	if sr.Outcome != model.Passed {
		for _, st := range sr.Steps {
			t.Logf("%s: %s %s", st.Name, st.Outcome, st.Error)
		}
		t.Fatalf("load during kills: %s %s", sr.Outcome, sr.Error)
	}
	out, err := stepNamed(t, sr, "load").DecodedOutput()
	if err != nil {
		t.Fatal(err)
	}
	load := out.(*model.LoadOutput)
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	failedAtProxy := 0
	for _, s := range proxy.statuses {
		if s < 200 || s >= 400 {
			failedAtProxy++
		}
	}
	if load.Requests != len(proxy.statuses) || load.Failed != failedAtProxy || sumErrors(load.Errors) != 0 {
		t.Errorf("kdrill counted %d requests, %d failed (errors %v); the proxy logged %d, %d failed", load.Requests, load.Failed, load.Errors, len(proxy.statuses), failedAtProxy)
	}
	slices.Sort(proxy.took)
	// The same rank as the HDR histogram's 99th percentile
	// (hdrhistogram-go: the count at 0.99·n, rounded).
	p99 := proxy.took[max(int(0.99*float64(len(proxy.took))+0.5), 1)-1]
	// kdrill times a request from its side of the wire, the proxy from
	// its own: the client's share (up to a few milliseconds on a busy
	// 2-core machine) comes on top of the histogram's precision.
	const clientSide = 5 * time.Millisecond
	if got := load.Latency.P99.Duration; got < p99*95/100 || got > p99*105/100+clientSide {
		t.Errorf("p99: kdrill %s, the proxy %s (more than 5 %% and %s apart)", got, p99, clientSide)
	}
	mon, err := stepNamed(t, sr, "availability").DecodedOutput()
	if err != nil {
		t.Fatal(err)
	}
	inFaults := 0
	for _, f := range mon.(*model.MonitorOutput).Faults {
		inFaults += f.FailedRequests
		t.Logf("fault %s at %s for %s: %.1f pod-seconds short, %d requests, %d failed, %d slow, longest gap %s",
			f.Cause, f.Start.Format("15:04:05.000"), f.End.Sub(f.Start).Round(time.Millisecond), f.PodSecondsBelowDesired, f.Requests, f.FailedRequests, f.SlowRequests, f.LongestGap.Duration)
	}
	if inFaults > load.Failed {
		t.Errorf("faults count %d failed requests; the load had %d", inFaults, load.Failed)
	}
	t.Logf("load: %d requests at %.1f/s, %d failed (%v), p50 %s p99 %s max %s, client CPU %.2f of %d cores; proxy p99 %s",
		load.Requests, load.Rate, load.Failed, load.Status, load.Latency.P50.Duration, load.Latency.P99.Duration, load.Latency.Max.Duration, load.ClientCPU, load.ClientCores, p99)
}

func sumErrors(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
