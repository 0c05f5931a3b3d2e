package bench

import (
	"syscall"
	"testing"
	"time"

	"github.com/kdrill/kdrill/internal/hostile"
)

// BenchmarkHostileRefusal runs the kdrill binary on each generated hostile
// file (each under 1 MiB: alias bombs, expressions nested past any stack,
// thousands of steps and errors) and reports the slowest refusal, in wall
// and CPU seconds, and the largest peak RSS. Goal: each refused within 1 s
// and 200 MiB. No cluster is needed.
func BenchmarkHostileRefusal(b *testing.B) {
	dir := b.TempDir()
	bin := buildKdrill(b, dir)
	cases, err := hostile.Write(dir)
	if err != nil {
		b.Fatal(err)
	}
	var worstWall, worstCPU time.Duration
	var worstRSS int64
	b.ResetTimer()
	for range b.N {
		for _, c := range cases {
			cmd := measure(b, bin, "validate", c.Path)
			start := time.Now()
			_ = cmd.Run()
			wall := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				b.Fatalf("%s: exit %d, want 2", c.Path, code)
			}
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			worstWall, worstCPU, worstRSS = max(worstWall, wall), max(worstCPU, cpu), max(worstRSS, cmd.PeakRSS(b)*1024)
		}
	}
	b.ReportMetric(worstWall.Seconds(), "max-wall-s")
	b.ReportMetric(worstCPU.Seconds(), "max-cpu-s")
	b.ReportMetric(float64(worstRSS)/(1<<20), "max-rss-MiB")
	b.ReportMetric(float64(len(cases)), "files")
}
