package reports

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
)

func TestLoadStepsAreCharted(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	out := &model.LoadOutput{Target: "service web/info", Requests: 120}
	for i := range 30 {
		out.Series = append(out.Series, model.LoadSecond{
			Time: start.Add(time.Duration(i) * time.Second), Sent: 40, Failed: i % 7 / 6,
			P50: model.Duration{Duration: 3 * time.Millisecond}, P99: model.Duration{Duration: time.Duration(10+i) * time.Millisecond},
		})
	}
	r := &model.Results{Scenarios: []*model.ScenarioResult{{Name: "drill", Steps: []*model.StepResult{{Name: "load", Kind: "load", Outcome: model.Passed, Output: out}}}}}
	charts, err := AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}
	var found *Chart
	for i := range charts {
		if strings.HasPrefix(charts[i].File, "load-drill-load") {
			found = &charts[i]
		}
	}
	if found == nil {
		t.Fatalf("no load chart in %d charts", len(charts))
	}
	img, err := png.Decode(bytes.NewReader(found.PNG))
	if err != nil || img.Bounds().Dx() != 1100 {
		t.Errorf("chart %s: %v", found.File, err)
	}
}
