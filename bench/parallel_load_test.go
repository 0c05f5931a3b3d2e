package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// parallelScenario deploys 20 replicas, monitors them, kills a few, waits
// for recovery, scales and deletes: each of the 20 copies works in its own
// namespace.
const parallelScenario = `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: load-%02d}
spec:
  steps:
  - name: deploy
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 20
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: web}]}
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: web}]}
  - name: kill
    kill: {workload: {kind: Deployment, name: web}, count: 5}
  - name: recovered
    timeout: 2m
    assert:
      resource: {kind: Deployment, name: web}
      expr: object.status.availableReplicas == 20
  - name: scale
    scale: {kind: Deployment, name: web, replicas: 10}
  - name: stop
    stop: {steps: [availability]}
  finally:
  - name: remove
    delete: {kind: Deployment, name: web}
`

// BenchmarkParallelScenarios runs 20 scenarios at once with the kdrill
// binary (--parallel 20) and reports the wall time and kdrill's peak RSS
// (goal: under 300 MiB); it fails unless every scenario passed and every
// namespace the run created is gone or going.
func BenchmarkParallelScenarios(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	cluster := testcluster.Connect(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	scenarios := filepath.Join(dir, "scenarios")
	if err := os.MkdirAll(scenarios, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(scenarios, fmt.Sprintf("load-%02d.yaml", i)), fmt.Appendf(nil, parallelScenario, i), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var peak int64
	for range b.N {
		reportDir := filepath.Join(dir, "report")
		cmd := measure(b, bin, "run", "--kubeconfig", kubeconfig, "--parallel", "20", "--quiet", "--report-dir", reportDir, scenarios)
		out, wall, rss, res := cmd.results(b, reportDir)
		peak = max(peak, rss)
		if len(res.Scenarios) != 20 {
			b.Fatalf("%d scenario results", len(res.Scenarios))
		}
		for _, s := range res.Scenarios {
			if s.Outcome != model.Passed {
				b.Errorf("%s: %s %s", s.Name, s.Outcome, s.Error)
			}
			ns, err := cluster.Typed.CoreV1().Namespaces().Get(context.Background(), s.Namespace, metav1.GetOptions{})
			if err == nil && ns.DeletionTimestamp == nil {
				b.Errorf("namespace %s was left behind", s.Namespace)
			}
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.Logf("20 scenarios in %s; %s", wall.Round(time.Millisecond), strings.TrimSpace(lastLine(string(out))))
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "scenario(s)") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}
