package bench

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

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
		reportDir := filepath.Join(dir, fmt.Sprintf("report-%d", i))
		out, err := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--quiet", "--report-dir", reportDir, "testdata/real-pod-start.yaml").CombinedOutput()
		if err != nil {
			b.Fatalf("kdrill: %v\n%s", err, out)
		}
		res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
		if err != nil {
			b.Fatal(err)
		}
		s := res.Scenarios[0]
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
