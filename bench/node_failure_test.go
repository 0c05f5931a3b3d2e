package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// BenchmarkNodeFailure runs testdata/node-failure-load.yaml with the kdrill
// binary on a cluster of 50 nodes (the local cluster's 5 and a pool of 45
// the benchmark adds): 5,000 pods on the pool, 5 nodes failed at once,
// every pod rescheduled, the nodes restored. It reports kdrill's peak RSS,
// the pods the failure evicted, the restore's duration, and checks that the
// monitor saw every evicted pod and that its final counts equal a fresh
// list.
func BenchmarkNodeFailure(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	cluster := testcluster.Connect(b)
	pool := testcluster.NewNodePool(b, 45)
	sel, tol := pool.PodSpecYAML()
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	for range b.N {
		reportDir := filepath.Join(dir, "report")
		ns := testcluster.Namespace(b, cluster)
		cmd := measure(b, bin, "run", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", reportDir,
			"--set", "nodes="+pool.Selector(), "--set", "nodeSelector="+sel, "--set", "tolerations="+tol,
			"testdata/node-failure-load.yaml")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("kdrill: %v\n%s", err, out)
		}
		peak := cmd.PeakRSS(b)
		res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
		if err != nil {
			b.Fatal(err)
		}
		var fail, restore model.NodeOutput
		var mon model.MonitorOutput
		for _, st := range res.Scenarios[0].Steps {
			var err error
			switch st.Name {
			case "fail five":
				err = model.DecodeOutput(st.Output, &fail)
			case "restore":
				err = model.DecodeOutput(st.Output, &restore)
			case "availability":
				err = model.DecodeOutput(st.Output, &mon)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		samples := mon.Workloads[0].Samples
		last := samples[len(samples)-1]
		checkFreshCounts(b, cluster, ns, "app=load", last.Pods)
		if mon.Kills != len(fail.Evicted) || len(restore.Restored) != 5 {
			b.Errorf("monitor saw %d lost pods of %d evicted; restored %q", mon.Kills, len(fail.Evicted), restore.Restored)
		}
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(len(fail.Evicted)), "evicted")
		b.ReportMetric(fail.Duration.Seconds(), "fail-s")
		b.ReportMetric(restore.Duration.Seconds(), "restore-s")
		b.ReportMetric(mon.Recovery.Max.Seconds(), "recovery-s")
		b.Logf("failed %s: %d pods evicted in %s; recovered in %s; restore of 5 nodes took %s; peak RSS %.1f MiB",
			strings.Join(fail.Nodes, ","), len(fail.Evicted), fail.Duration, mon.Recovery.Max, restore.Duration, float64(peak)/1024)
	}
	pool.AssertUntouched(b, 30*time.Second)
}
