// Package bench measures kdrill against the local cluster. Run it with
// make bench (200 trials); the figures are benchmark metrics, not
// pass/fail tests.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// BenchmarkAssertReaction measures how long an assert step takes to finish
// after the API server accepts the write that makes its expression true.
// Each trial starts an assert on a ConfigMap whose value is not yet right,
// waits until its watch is established, then updates the ConfigMap through a
// separate client. Latency is measured from the moment the update is sent
// (an upper bound: it includes the write's own round trip) to the return of
// the step. It reports p50, p99 and max in milliseconds, and the requests the
// assert sent per trial by kind, to show that it watches and never polls.
func BenchmarkAssertReaction(b *testing.B) {
	kd, writer, ns := twoClients(b)
	ctx := context.Background()
	cms := writer.Typed.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "target"}, Data: map[string]string{"n": "0"}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: bench}
spec:
  vars: {want: 0}
  steps:
  - name: reacts
    assert:
      resource: {kind: ConfigMap, name: target}
      expr: object.data.n == string(vars.want)
`), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := scenario.Load(file, steps.Registry)
	if err != nil {
		b.Fatal(err)
	}
	st := s.Spec.Steps[0]
	// Warm the discovery cache so trials measure the watch, not discovery.
	if _, err := kd.Mapping("", "ConfigMap"); err != nil {
		b.Fatal(err)
	}

	latencies := make([]time.Duration, 0, b.N)
	before := kd.Requests.Snapshot()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		env := runner.NewEnv(kd, s, ns, map[string]any{"want": i})
		watches := kd.Requests.Snapshot()["WATCH"]
		done := make(chan time.Time, 1)
		errc := make(chan error, 1)
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		go func() {
			_, err := st.Action.(step.Action).Run(tctx, env)
			done <- time.Now()
			errc <- err
		}()
		// The watch request is sent once the initial list is in; give the
		// server a moment to register it before making the change.
		for kd.Requests.Snapshot()["WATCH"] == watches {
			select {
			case <-tctx.Done():
				b.Fatal("the assert never opened a watch")
			case <-time.After(time.Millisecond):
			}
		}
		<-time.After(20 * time.Millisecond)

		cm.Data["n"] = strconv.Itoa(i)
		sent := time.Now()
		cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		finished := <-done
		if err := <-errc; err != nil {
			b.Fatalf("trial %d: %v", i, err)
		}
		cancel()
		latencies = append(latencies, finished.Sub(sent))
	}
	b.StopTimer()
	after := kd.Requests.Snapshot()

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(pct(0.50)), "p50-ms")
	b.ReportMetric(ms(pct(0.99)), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
	for _, verb := range []string{"GET", "WATCH"} {
		b.ReportMetric(float64(after[verb]-before[verb])/float64(b.N), verb+"-requests/op")
	}
	other := 0
	for verb, n := range after {
		if verb != "GET" && verb != "WATCH" {
			other += n - before[verb]
		}
	}
	b.ReportMetric(float64(other)/float64(b.N), "other-requests/op")
	b.Logf("%d trials: p50 %s, p99 %s, max %s; requests %s", len(latencies), pct(0.5), pct(0.99), latencies[len(latencies)-1], fmt.Sprint(diff(before, after)))
}

func diff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// twoClients connects kdrill's client and a second one for the benchmark's
// own reads and writes, and makes a namespace for the trials.
func twoClients(b *testing.B) (kd, other *kube.Cluster, ns string) {
	kubeconfig := testcluster.Kubeconfig(b)
	kd, err := kube.Connect(kube.Connection{Kubeconfig: kubeconfig})
	if err != nil {
		b.Fatal(err)
	}
	other, err = kube.Connect(kube.Connection{Kubeconfig: kubeconfig})
	if err != nil {
		b.Fatal(err)
	}
	return kd, other, testcluster.Namespace(b, other)
}
