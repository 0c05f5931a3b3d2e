package bench

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// BenchmarkRealNodePodStart runs testdata/real-pod-start.yaml, b.N times:
// kdrill applies a Deployment of 20 pods on the local cluster's real node
// (real containers: sandbox, network, process) and waits until all are
// Ready. It reports real pods started per second (goal: at least 1 on a
// busy 2-core machine; about 3 measured on an idle one) and the
// scenario's whole wall time, cleanup of the pods included.
func BenchmarkRealNodePodStart(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	testcluster.RealNode(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	const pods = 20
	var startSeconds, wallSeconds float64
	for i := range b.N {
		s := runPassing(b, bin, kubeconfig, filepath.Join(dir, fmt.Sprintf("report-%d", i)), "testdata/real-pod-start.yaml")
		startSeconds += s.Steps[0].DurationSeconds
		wallSeconds += s.DurationSeconds
	}
	rate := float64(pods*b.N) / startSeconds
	b.ReportMetric(rate, "pods/s")
	b.ReportMetric(wallSeconds/float64(b.N), "s/run")
	if rate < 1 {
		b.Errorf("%.1f real pods started per second, want at least 1", rate)
	}
}

// BenchmarkConnectMatrix runs testdata/connect-matrix.yaml, b.N times: one
// connect step probes every pair of 10 client and 10 server pods on the
// real node (100 connections, each an exec of nc in a real container). It
// reports probes per second and the time per probe (goal: at least 5
// probes per second on a busy 2-core machine).
func BenchmarkConnectMatrix(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	testcluster.RealNode(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	var probes int
	var seconds float64
	for i := range b.N {
		st := runPassing(b, bin, kubeconfig, filepath.Join(dir, fmt.Sprintf("report-%d", i)), "testdata/connect-matrix.yaml").Steps[1]
		var c model.ConnectOutput
		if err := model.DecodeOutput(st.Output, &c); err != nil || len(c.Probes) != 100 {
			b.Fatalf("the matrix probed %d pairs, want 100 (%v)", len(c.Probes), err)
		}
		probes += len(c.Probes)
		seconds += st.DurationSeconds
	}
	rate := float64(probes) / seconds
	b.ReportMetric(rate, "probes/s")
	b.ReportMetric(1000/rate, "ms/probe")
	if rate < 5 {
		b.Errorf("%.1f probes per second, want at least 5", rate)
	}
}

// runPassing runs one scenario file with the kdrill binary and returns its
// result; the benchmark fails unless it passed.
func runPassing(b *testing.B, bin, kubeconfig, reportDir, file string) *model.ScenarioResult {
	b.Helper()
	out, err := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--quiet", "--report-dir", reportDir, file).CombinedOutput()
	if err != nil {
		b.Fatalf("kdrill: %v\n%s", err, out)
	}
	res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		b.Fatal(err)
	}
	return res.Scenarios[0]
}
