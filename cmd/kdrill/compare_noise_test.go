package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// Two fair-weather runs of the same chaos scenario, back to back on the
// local cluster, with the built-in tolerances: compare finds no regression
// in either order, whatever their recovery figures drew.
func TestCompareOfTwoFairWeatherRunsFindsNoRegressionEitherWay(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "kills.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: kills}
spec:
  stepTimeout: 2m
  steps:
  - name: deploy
    apply:
      wait: true
      inline:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 60
          minReadySeconds: 1
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 0
              containers: [{name: web, image: example/webapp:1.0}]
  - name: availability
    background: true
    monitor: {workloads: [{kind: Deployment, name: web}]}
  - name: kills
    # The schedule is pinned, as a nightly scenario pins it (the shipped
    # poisson-kill.yaml does): two runs then differ by the cluster alone.
    killPoisson: {workload: {kind: Deployment, name: web}, mode: rounds, mean: 3, interval: 1500ms, rounds: 8, recover: true, seed: 42}
  - name: end monitoring
    stop: {steps: [availability]}
`)
	var results []string
	for _, name := range []string{"first", "second"} {
		reportDir := filepath.Join(dir, name)
		if code, out, errOut := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, file); code != 0 {
			t.Fatalf("%s run: exit %d\n%s\n%s", name, code, out, errOut)
		}
		results = append(results, filepath.Join(reportDir, reports.ResultsFile))
	}
	for _, order := range [][2]string{{results[0], results[1]}, {results[1], results[0]}} {
		code, out, errOut := kdrill(t, "compare", order[0], order[1])
		if code != 0 || !strings.Contains(out, "no regressions") {
			t.Errorf("compare %s %s: exit %d\n%s\n%s", filepath.Base(filepath.Dir(order[0])), filepath.Base(filepath.Dir(order[1])), code, out, errOut)
		}
	}
	// The recoveries behind the figures were counted, so noise was known.
	r, err := reports.ReadJSON(results[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range reports.Metrics(r) {
		if m.Name == "steps[availability].recovery.p50" && m.Samples < 2 {
			t.Errorf("recovery p50 from %d samples", m.Samples)
		}
	}
}
