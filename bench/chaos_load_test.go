package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// BenchmarkChaosLoad runs testdata/chaos-load.yaml with the kdrill binary:
// 5,000 pods, single kills as a Poisson process at 20/s for 60 s, the
// monitor running. It reports kdrill's peak RSS, its average CPU while the
// kills run, the kill timing error (p99 and max), and whether the monitor's
// final pod counts equal a fresh list taken after it stopped; then the time
// and peak RSS of kdrill report rendering that run again.
func BenchmarkChaosLoad(b *testing.B) {
	kubeconfig := testcluster.Kubeconfig(b)
	cluster := testcluster.Connect(b)
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	for range b.N {
		reportDir := filepath.Join(dir, "report")
		ns := testcluster.Namespace(b, cluster)
		cmd := measure(b, bin, "run", "--kubeconfig", kubeconfig, "-n", ns, "--report-dir", reportDir, "testdata/chaos-load.yaml")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pid := cmd.ProgramPid(b)
		var cpuStart, cpuEnd time.Duration
		var wallStart, wallEnd time.Time
		var output strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			output.WriteString(line + "\n")
			switch {
			case strings.Contains(line, "✓ deploy [apply]"):
				cpuStart, wallStart = cpuTime(pid), time.Now()
			case strings.Contains(line, "kills [killPoisson]"):
				cpuEnd, wallEnd = cpuTime(pid), time.Now()
			}
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("kdrill: %v\n%s", err, output.String())
		}
		peak := cmd.PeakRSS(b)
		res, err := reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
		if err != nil {
			b.Fatal(err)
		}
		var lateness []time.Duration
		var last model.Sample
		for _, st := range res.Scenarios[0].Steps {
			switch st.Kind {
			case "killPoisson":
				var out model.KillPoissonOutput
				if err := model.DecodeOutput(st.Output, &out); err != nil {
					b.Fatal(err)
				}
				for _, r := range out.Rounds {
					lateness = append(lateness, r.Late.Duration)
				}
			case "monitor":
				var out model.MonitorOutput
				if err := model.DecodeOutput(st.Output, &out); err != nil {
					b.Fatal(err)
				}
				samples := out.Workloads[0].Samples
				last = samples[len(samples)-1]
			}
		}
		// No watch event was dropped: the monitor's last counts are what a
		// fresh list says now that the pods have settled.
		checkFreshCounts(b, cluster, ns, "app=load", last.Pods)
		if len(lateness) == 0 || wallEnd.IsZero() {
			b.Fatalf("no kills recorded:\n%s", output.String())
		}
		// The report of the run again from its results.json, as kdrill
		// report renders it: the goal for a 4,000-pod run is 0.15 s.
		render := measure(b, bin, "report", "--out", filepath.Join(dir, "rendered"), filepath.Join(reportDir, reports.ResultsFile))
		renderStart := time.Now()
		if out, err := render.CombinedOutput(); err != nil {
			b.Fatalf("kdrill report: %v\n%s", err, out)
		}
		b.ReportMetric(time.Since(renderStart).Seconds(), "report-s")
		b.ReportMetric(float64(render.PeakRSS(b))/1024, "report-peak-RSS-MiB")
		slices.Sort(lateness)
		p99 := lateness[int(0.99*float64(len(lateness)-1))]
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		b.ReportMetric((cpuEnd-cpuStart).Seconds()/wallEnd.Sub(wallStart).Seconds(), "CPU-cores-during-kills")
		b.ReportMetric(float64(p99.Microseconds())/1000, "kill-late-p99-ms")
		b.ReportMetric(float64(lateness[len(lateness)-1].Microseconds())/1000, "kill-late-max-ms")
		b.ReportMetric(float64(len(lateness)), "kills")
		b.Logf("%d kills; peak RSS %.1f MiB; CPU %.3f cores over %s of kills; lateness p99 %s max %s",
			len(lateness), float64(peak)/1024, (cpuEnd-cpuStart).Seconds()/wallEnd.Sub(wallStart).Seconds(),
			wallEnd.Sub(wallStart).Round(time.Millisecond), p99, lateness[len(lateness)-1])
	}
}

// cpuTime reads a process's user+system CPU time from /proc.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
