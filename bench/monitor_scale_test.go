package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// scaleRSSGoal is the most kdrill may take, in MiB of peak RSS, to monitor
// 20,000 pods while it kills some.
const scaleRSSGoal = 150

// scalePods is how many pods BenchmarkMonitorAtScale monitors:
// $KDRILL_BENCH_SCALE_PODS, which make bench sets to 20,000. A run of every
// benchmark once (make test) takes 2,000: this 2-core machine's control
// plane makes about 24 pods a second, so 20,000 take 14 minutes to come
// up and more to go.
func scalePods(b *testing.B) int {
	v := os.Getenv("KDRILL_BENCH_SCALE_PODS")
	if v == "" {
		return 2000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("KDRILL_BENCH_SCALE_PODS=%q: not a number of pods", v)
	}
	return n
}

// BenchmarkMonitorAtScale runs testdata/monitor-scale.yaml with the kdrill
// binary: 20,000 pods (scalePods) on a pool of nodes the benchmark adds, 800
// a node, monitored while single kills run at 20/s for 30 s. It reports kdrill's peak RSS and
// fails above scaleRSSGoal or when the monitor's last counts differ from a
// fresh list.
func BenchmarkMonitorAtScale(b *testing.B) {
	replicas := scalePods(b)
	kubeconfig := testcluster.Kubeconfig(b)
	cluster := testcluster.Connect(b)
	pool := testcluster.NewNodePool(b, (replicas+799)/800)
	sel, tol := pool.PodSpecYAML()
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	var peak int64
	for i := range b.N {
		reportDir := filepath.Join(dir, fmt.Sprintf("report-%d", i))
		ns := testcluster.Namespace(b, cluster)
		cmd := measure(b, bin, "run", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", reportDir, "--quiet",
			"--set", "replicas="+strconv.Itoa(replicas), "--set", "nodeSelector="+sel, "--set", "tolerations="+tol,
			"testdata/monitor-scale.yaml")
		out, _, rss, res := cmd.results(b, reportDir)
		peak = max(peak, rss)
		var mon model.MonitorOutput
		for _, st := range res.Scenarios[0].Steps {
			if st.Name == "availability" {
				if err := model.DecodeOutput(st.Output, &mon); err != nil {
					b.Fatal(err)
				}
			}
		}
		samples := mon.Workloads[0].Samples
		checkFreshCounts(b, cluster, ns, "app=load", samples[len(samples)-1].Pods)
		if mon.Kills == 0 {
			b.Errorf("the monitor saw no pod lost:\n%s", out)
		}
	}
	mib := float64(peak) / 1024
	b.ReportMetric(mib, "peak-RSS-MiB")
	b.Logf("%d pods monitored under kills: peak RSS %.1f MiB", replicas, mib)
	if mib > scaleRSSGoal {
		b.Errorf("peak RSS %.1f MiB, above the goal of %d MiB", mib, scaleRSSGoal)
	}
}
