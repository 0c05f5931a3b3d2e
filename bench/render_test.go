package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// hourOfMonitoring is a run whose monitor sampled three workloads every
// 100ms for an hour (36,000 samples each, 108,000 in all), with a kill
// batch every 10s: the size a nightly soak test records.
func hourOfMonitoring() *model.Results {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	out := &model.MonitorOutput{}
	for w := range 3 {
		series := model.WorkloadSeries{Kind: "Deployment", Name: fmt.Sprintf("web-%d", w), Desired: 500, MinAvailable: 500, Start: start, End: start.Add(time.Hour)}
		for i := range 36_000 {
			at := start.Add(time.Duration(i) * 100 * time.Millisecond)
			down := 0
			if since := i % 100; since < 30 { // a batch every 10s, back within 3s
				down = (10 + w) * (30 - since) / 30
			}
			series.Samples = append(series.Samples, model.Sample{Time: at, Desired: 500, Available: 500 - down, Unavailable: down, Ready: 500 - down, Updated: 500})
			series.MinAvailable = min(series.MinAvailable, 500-down)
			if i%100 == 0 {
				series.Recovery.Batches = append(series.Recovery.Batches, model.BatchRecovery{Time: at, Killed: 10 + w, Recovery: model.Duration{Duration: 3 * time.Second}, Recovered: true})
			}
		}
		out.Workloads = append(out.Workloads, series)
	}
	sr := &model.ScenarioResult{
		Name: "soak", Outcome: model.Passed, StartedAt: start, FinishedAt: start.Add(time.Hour), DurationSeconds: 3600,
		Steps: []*model.StepResult{{Name: "availability", Kind: "monitor", Outcome: model.Passed, StartedAt: start, FinishedAt: start.Add(time.Hour), DurationSeconds: 3600, Output: out}},
	}
	return &model.Results{Outcome: model.Passed, StartedAt: start, FinishedAt: start.Add(time.Hour), Scenarios: []*model.ScenarioResult{sr}}
}

// BenchmarkRenderHourOfMonitoring renders report.html, junit.xml and the
// charts for an hour of monitor data; goal: at most 2 s and 200 MiB. It
// reports the time per render and the process's peak RSS.
func BenchmarkRenderHourOfMonitoring(b *testing.B) {
	res := hourOfMonitoring()
	dir := b.TempDir()
	resetPeakRSS(b)
	b.ResetTimer()
	for range b.N {
		if _, err := reports.WriteRenderings(dir, res); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(ownPeakRSS(b))/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/render")
}
