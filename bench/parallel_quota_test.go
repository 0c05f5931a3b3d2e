package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// BenchmarkParallelQuotaVerdicts runs eight blue/green + quota tests
// (testdata/bluegreen-quota.yaml) at once (--parallel 8), b.N suite runs, and counts wrong verdicts: any scenario that did not pass (goal:
// zero). Admission trailing a quota's count (a create admitted just after
// the quota read full) was the cause of most wrong verdicts before
// expectRejection probed with dry runs; the count of creates admitted and
// deleted again is reported.
func BenchmarkParallelQuotaVerdicts(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	scenarios := filepath.Join(dir, "scenarios")
	if err := os.MkdirAll(scenarios, 0o755); err != nil {
		b.Fatal(err)
	}
	test, err := os.ReadFile("testdata/bluegreen-quota.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 8 {
		if err := os.WriteFile(filepath.Join(scenarios, fmt.Sprintf("bluegreen-quota-%d.yaml", i)), fmt.Appendf(nil, string(test), i), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// The blue/green scenario reads manifests beside it.
	if err := os.CopyFS(filepath.Join(scenarios, "manifests"), os.DirFS("../scenarios/deploy/manifests")); err != nil {
		b.Fatal(err)
	}
	wrong, admitted := 0, 0
	for i := range b.N {
		reportDir := filepath.Join(dir, fmt.Sprintf("report-%d", i))
		start := time.Now()
		out, err := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--parallel", "8", "--quiet", "--report-dir", reportDir, scenarios).CombinedOutput()
		res, rerr := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
		if rerr != nil {
			b.Fatalf("kdrill: %v %v\n%s", err, rerr, out)
		}
		for _, s := range res.Scenarios {
			if s.Outcome != model.Passed {
				wrong++
				b.Errorf("run %d: %s: %s %s", i, s.Name, s.Outcome, s.Error)
			}
			for _, st := range s.Steps {
				var rej model.ExpectRejectionOutput
				if st.Kind == "expectRejection" && model.DecodeOutput(st.Output, &rej) == nil {
					admitted += rej.Admitted
				}
			}
		}
		b.Logf("suite %d: %s in %s", i, strings.TrimSpace(lastLine(string(out))), time.Since(start).Round(time.Millisecond))
	}
	b.ReportMetric(float64(wrong), "wrong-verdicts")
	b.ReportMetric(float64(admitted)/float64(b.N), "admitted-then-deleted/op")
}
