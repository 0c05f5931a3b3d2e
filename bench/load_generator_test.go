package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// TestLoadServerHelper is not a test: the load benchmarks start it as a
// process of its own, so that the server's work is not counted as the
// load generator's. It serves HTTP, holding each request for
// $KDRILL_BENCH_HOLD, and prints its address.
func TestLoadServerHelper(t *testing.T) {
	if os.Getenv("KDRILL_BENCH_SERVE") == "" {
		t.Skip("a helper process of the load benchmarks")
	}
	hold, _ := time.ParseDuration(os.Getenv("KDRILL_BENCH_HOLD"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("http://" + ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold > 0 {
			t := time.NewTimer(hold)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
}

// server starts the helper process and returns its URL.
func server(b *testing.B, hold time.Duration) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServerHelper$")
	cmd.Env = append(os.Environ(), "KDRILL_BENCH_SERVE=1", "KDRILL_BENCH_HOLD="+hold.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(line)
}

// generate runs a load step, cluster-free, against url.
func generate(b *testing.B, spec string) *model.LoadOutput {
	b.Helper()
	l := &steps.Load{}
	if err := json.Unmarshal([]byte(spec), l); err != nil {
		b.Fatal(err)
	}
	l.Default()
	if err := l.Validate(); err != nil {
		b.Fatal(err)
	}
	env := runner.NewEnv(testcluster.Fake(), &scenario.Scenario{}, "bench", map[string]any{})
	env.Step = &scenario.Step{Name: "load", Kind: "load"}
	out, err := l.Run(context.Background(), env)
	if err != nil {
		b.Fatal(err)
	}
	return out.(*model.LoadOutput)
}

// BenchmarkLoadGenerator measures what the load generator costs: requests
// per second it sustains per core of its own CPU, against a server in
// another process. Goal: at least 5,000 requests per second per core.
func BenchmarkLoadGenerator(b *testing.B) {
	url := server(b, 0)
	for b.Loop() {
		out := generate(b, `{"url": "`+url+`", "rate": 4000, "duration": "3s", "concurrency": 256}`)
		perCore := out.Rate / out.ClientCPU
		b.ReportMetric(out.Rate, "req/s")
		b.ReportMetric(perCore, "req/s/core")
		b.ReportMetric(float64(out.Dropped), "dropped")
		b.ReportMetric(float64(out.Latency.P99.Microseconds()), "p99-µs")
		if out.Failed > 0 || perCore < 5000 {
			b.Errorf("%d failed; %.0f requests per second per core (goal 5000)", out.Failed, perCore)
		}
	}
}

// BenchmarkLoadInFlight measures the memory of requests in flight: 10,000
// sent in one second to a server that holds each for 3 s. Goal: at most
// 100 KiB per request in flight (its goroutine, connection and buffers).
func BenchmarkLoadInFlight(b *testing.B) {
	url := server(b, 3*time.Second)
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse + ms.StackInuse
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
				}
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if v := m.HeapInuse + m.StackInuse; v > peak.Load() {
					peak.Store(v)
				}
			}
		}()
		out := generate(b, `{"url": "`+url+`", "rate": 10000, "duration": "1s", "concurrency": 10000, "requestTimeout": "20s"}`)
		close(done)
		inFlight := out.Requests
		perRequest := float64(peak.Load()-min(base, peak.Load())) / float64(max(inFlight, 1))
		b.ReportMetric(float64(inFlight), "in-flight")
		b.ReportMetric(perRequest/1024, "KiB/in-flight")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-MiB")
		if out.Failed > 0 || inFlight < 9000 || perRequest > 100*1024 {
			b.Errorf("%d in flight, %d failed (%s), %.1f KiB each (goal ≤ 100)", inFlight, out.Failed, out.FirstError, perRequest/1024)
		}
	}
}
