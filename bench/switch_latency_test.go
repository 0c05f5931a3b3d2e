package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
	"github.com/kdrill/kdrill/steps"
)

// BenchmarkSwitchSelector measures what switchSelector adds to the time the
// cluster itself takes to move a Service to other pods. A Service selects
// three ready pods of track a or three of track b; each trial switches it to
// the other track. The benchmark's own watches, on a separate connection,
// timestamp the Service change (the patch accepted) and the first
// EndpointSlice event whose ready endpoints are exactly the new pods (the
// EndpointSlice controller done). kdrill's added latency is from that event
// to the step's return; the controller's time is reported beside it.
func BenchmarkSwitchSelector(b *testing.B) {
	kd, observer, ns := twoClients(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tracks := map[string][]string{}
	for _, track := range []string{"a", "b"} {
		for i := range 3 {
			name := fmt.Sprintf("web-%s-%d", track, i)
			tracks[track] = append(tracks[track], name)
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web", "track": track}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "web"}}},
			}
			if _, err := observer.Typed.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web", "track": "a"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := observer.Typed.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}

	selectors := make(chan stamped, 16)
	endpoints := make(chan stamped, 64)
	go watchSelectors(ctx, b, observer, ns, selectors)
	go watchEndpoints(ctx, b, observer, ns, endpoints)
	// Wait until track a serves, so the first trial starts from a settled state.
	waitFor(b, endpoints, tracks["a"], 60*time.Second)

	dir := b.TempDir()
	file := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: bench}
spec:
  steps:
  - name: to b
    switchSelector: {service: web, selector: {track: b}}
  - name: to a
    switchSelector: {service: web, selector: {track: a}}
`), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := scenario.Load(file, steps.Registry)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kd.Mapping("discovery.k8s.io/v1", "EndpointSlice"); err != nil {
		b.Fatal(err)
	}

	var added, controller []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target := []string{"b", "a"}[i%2]
		st := s.Spec.Steps[i%2]
		env := runner.NewEnv(kd, s, ns, nil)
		tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
		if _, err := st.Action.(step.Action).Run(tctx, env); err != nil {
			b.Fatalf("trial %d: %v", i, err)
		}
		finished := time.Now()
		tcancel()
		accepted := waitForSelector(b, selectors, target)
		settled := waitFor(b, endpoints, tracks[target], 10*time.Second)
		added = append(added, finished.Sub(settled))
		controller = append(controller, settled.Sub(accepted))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	a, c := percentiles(added), percentiles(controller)
	b.ReportMetric(ms(a(0.50)), "added-p50-ms")
	b.ReportMetric(ms(a(0.95)), "added-p95-ms")
	b.ReportMetric(ms(a(1)), "added-max-ms")
	b.ReportMetric(ms(c(0.50)), "controller-p50-ms")
	b.ReportMetric(ms(c(0.95)), "controller-p95-ms")
	b.Logf("%d switches: kdrill added p50 %s p95 %s max %s; the EndpointSlice controller took p50 %s p95 %s",
		len(added), a(0.5), a(0.95), a(1), c(0.5), c(0.95))
}

// stamped is something the benchmark's watches saw, and when.
type stamped struct {
	at    time.Time
	names []string
}

func percentiles(ds []time.Duration) func(float64) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return func(p float64) time.Duration { return sorted[int(p*float64(len(sorted)-1))] }
}

// waitFor returns when the endpoints first equalled names, draining what
// came before.
func waitFor(b *testing.B, ch <-chan stamped, names []string, timeout time.Duration) time.Time {
	b.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s := <-ch:
			if slices.Equal(s.names, names) {
				return s.at
			}
		case <-deadline:
			b.Fatalf("the endpoints never became %v", names)
		}
	}
}

func waitForSelector(b *testing.B, ch <-chan stamped, track string) time.Time {
	b.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if len(s.names) == 1 && s.names[0] == track {
				return s.at
			}
		case <-deadline:
			b.Fatalf("the Service never selected track %s", track)
		}
	}
}

// watchSelectors sends the track the Service selects at each change.
func watchSelectors(ctx context.Context, b *testing.B, c *kube.Cluster, ns string, out chan<- stamped) {
	w, err := c.Typed.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=web"})
	if err != nil {
		b.Error(err)
		return
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if svc, ok := ev.Object.(*corev1.Service); ok && ev.Type == watch.Modified {
			out <- stamped{at: time.Now(), names: []string{svc.Spec.Selector["track"]}}
		}
	}
}

// watchEndpoints sends the sorted pod names behind the Service's ready
// endpoints at each EndpointSlice event.
func watchEndpoints(ctx context.Context, b *testing.B, c *kube.Cluster, ns string, out chan<- stamped) {
	w, err := c.Typed.DiscoveryV1().EndpointSlices(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
	if err != nil {
		b.Error(err)
		return
	}
	defer w.Stop()
	slicesByName := map[string]*discoveryv1.EndpointSlice{}
	for ev := range w.ResultChan() {
		es, ok := ev.Object.(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		if ev.Type == watch.Deleted {
			delete(slicesByName, es.Name)
		} else {
			slicesByName[es.Name] = es
		}
		var names []string
		for _, s := range slicesByName {
			for _, e := range s.Endpoints {
				if e.TargetRef != nil && (e.Conditions.Ready == nil || *e.Conditions.Ready) {
					names = append(names, e.TargetRef.Name)
				}
			}
		}
		sort.Strings(names)
		out <- stamped{at: time.Now(), names: names}
	}
}
