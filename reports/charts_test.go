package reports_test

import (
	"bytes"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

func monitorResults() *model.Results {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var samples []model.Sample
	for i := range 20 {
		avail := 50
		if i%5 == 1 || i%5 == 2 {
			avail = 45
		}
		samples = append(samples, model.Sample{Time: t0.Add(time.Duration(i) * time.Second), Desired: 50, Available: avail, Unavailable: 50 - avail})
	}
	out := &model.MonitorOutput{Workloads: []model.WorkloadSeries{{
		Kind: "Deployment", Name: "web/app", Samples: samples, Desired: 50, Start: t0, End: t0.Add(21 * time.Second),
		Recovery: model.Recovery{Batches: []model.BatchRecovery{{Time: t0.Add(900 * time.Millisecond), Killed: 5}}},
	}}}
	r := sample()
	r.Scenarios[0].Steps = append(r.Scenarios[0].Steps, &model.StepResult{Name: "m", Kind: "monitor", Outcome: model.Passed, Output: out})
	return r
}

func TestAvailabilityChartFromLiveAndStoredResults(t *testing.T) {
	live := monitorResults()
	charts, err := reports.AvailabilityCharts(live)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 1 || charts[0].File != "availability-demo-web_app.png" {
		t.Fatalf("charts %+v", charts)
	}
	img, err := png.Decode(bytes.NewReader(charts[0].PNG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1100 || b.Dy() != 520 {
		t.Errorf("size %v", b)
	}

	// The same chart comes out of results.json read back, as kdrill report
	// and CI artifacts use it.
	path := filepath.Join(t.TempDir(), "results.json")
	if err := reports.WriteJSON(path, live); err != nil {
		t.Fatal(err)
	}
	stored, err := reports.ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := reports.AvailabilityCharts(stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || !bytes.Equal(again[0].PNG, charts[0].PNG) {
		t.Error("the chart drawn from results.json differs from the live one")
	}
}

func TestAvailabilityChartShadesNodesOut(t *testing.T) {
	r := monitorResults()
	mon := r.Scenarios[0].Steps[len(r.Scenarios[0].Steps)-1].Output.(*model.MonitorOutput)
	w := &mon.Workloads[0]
	plain, err := reports.AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}
	// The node is out from 5 s to 12 s of a 21 s chart.
	w.NodesOut = []model.NodeWindow{{Node: "node-000004", Start: w.Start.Add(5 * time.Second), End: w.Start.Add(12 * time.Second), Reason: "NotReady"}}
	shaded, err := reports.AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}
	before, err := png.Decode(bytes.NewReader(plain[0].PNG))
	if err != nil {
		t.Fatal(err)
	}
	after, err := png.Decode(bytes.NewReader(shaded[0].PNG))
	if err != nil {
		t.Fatal(err)
	}
	// Inside the window the background turns orange; outside it does not.
	// The plot spans x 55..1080 or so; 8.5 s is about 40% of it.
	orange := func(x, y int) bool {
		r, g, b, _ := after.At(x, y).RGBA()
		return r>>8 > 240 && g>>8 > 200 && b>>8 < 230
	}
	inside, outside := 0, 0
	for y := 100; y < 400; y += 10 {
		if orange(55+410, y) {
			inside++
		}
		if orange(55+871, y) {
			outside++
		}
		if r, g, b, _ := before.At(55+410, y).RGBA(); r>>8 > 240 && g>>8 > 200 && b>>8 < 230 {
			t.Fatalf("the chart without the window is orange at (%d, %d)", 55+410, y)
		}
	}
	if inside < 10 || outside > 0 {
		t.Errorf("orange pixels inside the window %d (want most of 30), outside %d (want 0)", inside, outside)
	}
}

func TestCapacityChartAndTable(t *testing.T) {
	node := model.NodeCapacity{
		Pods:   4,
		CPU:    model.ResourceCapacity{Allocatable: 64, Requests: 4, Limits: 8, RequestsPercent: 6.25, LimitsPercent: 12.5},
		Memory: model.ResourceCapacity{Allocatable: 256 << 30, Requests: 4 << 30, Limits: 8 << 30, RequestsPercent: 1.5625, LimitsPercent: 3.125},
	}
	out := &model.CapacityOutput{Nodes: map[string]model.NodeCapacity{"node-a": node, "node-b": node}, Cluster: node}
	r := sample()
	r.Scenarios[0].Steps = append(r.Scenarios[0].Steps, &model.StepResult{Name: "committed", Kind: "capacity", Outcome: model.Passed, Output: out})
	charts, err := reports.AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 1 || charts[0].File != "capacity-demo-committed.png" {
		t.Fatalf("charts %+v", charts)
	}
	if _, err := png.Decode(bytes.NewReader(charts[0].PNG)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	(&reports.Console{W: &buf}).Observe(model.StepFinished, r, r.Scenarios[0], r.Scenarios[0].Steps[3])
	for _, want := range []string{"node-a", "node-b", "6.2% /  12.5% of 64", "1.6% /   3.1% of 256Gi"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestStepTimelineChart(t *testing.T) {
	r := sample()
	at := r.Scenarios[0].StartedAt
	for _, st := range r.Scenarios[0].Steps[:2] { // the finally step never ran
		st.StartedAt, st.FinishedAt = at, at.Add(time.Duration(st.DurationSeconds*float64(time.Second)))
		at = st.FinishedAt
	}
	charts, err := reports.AvailabilityCharts(r)
	if err != nil {
		t.Fatal(err)
	}
	var timeline *reports.Chart
	for i := range charts {
		if charts[i].File == "timeline-"+r.Scenarios[0].Name+".png" {
			timeline = &charts[i]
		}
	}
	if timeline == nil {
		t.Fatalf("no timeline chart among %d charts", len(charts))
	}
	img, err := png.Decode(bytes.NewReader(timeline.PNG))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, st := range r.Scenarios[0].Steps {
		if !st.StartedAt.IsZero() {
			ran++
		}
	}
	// One 26-pixel row per step that ran, under the title and over the axis.
	if h := img.Bounds().Dy(); h != 110+26*ran {
		t.Errorf("timeline is %d pixels high for %d steps", h, ran)
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "demo: step timeline") {
		t.Error("report.html embeds the timeline PNG beside its own timeline")
	}
}
