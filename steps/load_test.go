package steps_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// runLoad runs a load step decoded from spec, cluster-free, and returns
// its output and error.
func runLoad(t *testing.T, ctx context.Context, spec string) (*model.LoadOutput, error) {
	t.Helper()
	l := &steps.Load{}
	if err := json.Unmarshal([]byte(spec), l); err != nil {
		t.Fatal(err)
	}
	l.Default()
	if err := l.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := compile(l); err != nil {
		t.Fatal(err)
	}
	env := runner.NewEnv(testcluster.Fake(), &scenario.Scenario{}, "team", map[string]any{})
	env.Step = &scenario.Step{Name: "load", Kind: "load"}
	out, err := l.Run(ctx, env)
	if out == nil {
		return nil, err
	}
	return out.(*model.LoadOutput), err
}

// The generator's counts match what the server saw, one by one, and its
// percentiles those of the server's own latencies within the histogram's
// precision; a 5xx is a failure and a slow server shows as drops.
func TestLoadCountsWhatTheServerSaw(t *testing.T) {
	var served atomic.Int64
	var mu sync.Mutex
	var took []time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		began := time.Now()
		hold(r, time.Duration(n%10)*time.Millisecond) // 0–9 ms
		if n%25 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		mu.Lock()
		took = append(took, time.Since(began))
		mu.Unlock()
	}))
	defer srv.Close()
	out, err := runLoad(t, context.Background(), `{"url": "`+srv.URL+`", "rate": 200, "duration": "2s"}`)
	if err != nil {
		t.Fatal(err)
	}
	if int64(out.Requests) != served.Load() || out.Requests+out.Dropped != 400 {
		t.Errorf("sent %d, the server saw %d; want 400 at 200/s for 2s, all seen", out.Requests, served.Load())
	}
	if out.Failed != out.Status["503"] || out.Succeeded != out.Status["200"] || out.Failed != int(served.Load()/25) {
		t.Errorf("succeeded %d failed %d, statuses %v", out.Succeeded, out.Failed, out.Status)
	}
	slices.Sort(took)
	serverP99 := took[max(int(0.99*float64(len(took))+0.5), 1)-1] // the HDR histogram's rank
	if p99 := out.Latency.P99.Duration; p99 < serverP99 || p99 > serverP99+20*time.Millisecond {
		t.Errorf("p99 %s; the server's own p99 %s (the client's includes the round trip)", p99, serverP99)
	}
	if len(out.Series) < 2 || out.Series[0].Sent < 190 || out.ClientCPU <= 0 || out.ClientCores < 1 {
		t.Errorf("series %+v, client CPU %v of %d cores", out.Series, out.ClientCPU, out.ClientCores)
	}

	// One request at a time against a server that takes 50 ms: most of 100/s
	// cannot be sent, and say so.
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { hold(r, 50*time.Millisecond) }))
	defer slow.Close()
	out, err = runLoad(t, context.Background(), `{"url": "`+slow.URL+`", "rate": 100, "duration": "1s", "concurrency": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	if out.Dropped < 70 || out.Requests+out.Dropped < 95 {
		t.Errorf("sent %d, dropped %d; want most dropped", out.Requests, out.Dropped)
	}
}

func TestLoadFailsWhenNothingAnswers(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens at its address now
	out, err := runLoad(t, context.Background(), `{"url": "`+srv.URL+`", "rate": 50, "duration": "200ms", "requestTimeout": "100ms"}`)
	if err == nil || out.Errors["refused"] != out.Requests || out.Requests == 0 {
		t.Errorf("err %v, errors %v of %d", err, out.Errors, out.Requests)
	}
	// Until stopped: the context ends it, and what was sent is kept.
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	out, err = runLoad(t, ctx, `{"url": "`+ok.URL+`", "ramp": {"from": 10, "to": 100}, "duration": "10s", "maxErrorRate": 0.01}`)
	if out == nil || out.Requests == 0 {
		t.Fatalf("stopped: %+v %v", out, err)
	}
}

// hold holds a request for d, or until its client goes away.
func hold(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
