package reports

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// Colours of the availability chart, as in the course notes' plot.
var (
	colorAvailable   = drawing.ColorFromHex("1f5fbf")
	colorUnavailable = drawing.ColorFromHex("c0179a")
	colorKilled      = drawing.ColorFromHex("d62728")
)

// Chart is a rendered PNG and what it shows.
type Chart struct {
	Scenario string
	Title    string
	File     string // name within the report directory
	PNG      []byte
}

// AvailabilityCharts draws each scenario's step timeline; for every
// workload a monitor step sampled, its available and unavailable replicas
// over time with the kill batches marked; and for every capacity step the
// commitment per node.
func AvailabilityCharts(r *model.Results) ([]Chart, error) {
	return chartsOf(r, scenarioCharts)
}

// chartsOf joins the scenarios' charts as draw gives them, every file name
// its own; the first error ends them.
func chartsOf(r *model.Results, draw func(*model.ScenarioResult) ([]Chart, error)) ([]Chart, error) {
	var charts []Chart
	for _, s := range r.Scenarios {
		cs, err := draw(s)
		charts = append(charts, cs...)
		if err != nil {
			uniqueFiles(charts)
			return charts, err
		}
	}
	uniqueFiles(charts)
	return charts, nil
}

// scenarioCharts draws one scenario's charts, side by side on the cores
// there are; the first error ends them.
func scenarioCharts(s *model.ScenarioResult) ([]Chart, error) {
	jobs, err := chartJobs(s)
	charts := make([]Chart, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, job := range jobs {
		charts[i] = job.chart
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			charts[i].PNG, errs[i] = job.draw()
		})
	}
	wg.Wait()
	drawn := charts[:0]
	for i, c := range charts {
		if errs[i] != nil {
			return drawn, errs[i]
		}
		if c.PNG != nil {
			drawn = append(drawn, c)
		}
	}
	return drawn, err
}

// chartJob is a chart to draw: what it is, and how.
type chartJob struct {
	chart Chart
	draw  func() ([]byte, error)
}

// chartJobs lists a scenario's charts: its step timeline; for every
// workload a monitor step sampled, its availability; for every capacity
// step the commitment per node (and over time); for every load step its
// rate and latency. A step output that cannot be read ends the list.
func chartJobs(s *model.ScenarioResult) ([]chartJob, error) {
	jobs := []chartJob{{
		chart: Chart{Scenario: s.Name, Title: s.Name + ": step timeline", File: fmt.Sprintf("timeline-%s.png", fileSafe(s.Name))},
		draw: func() ([]byte, error) {
			png, _, err := timelinePNG(s) // none when no step ran: dropped
			return png, err
		},
	}}
	add := func(title, file string, draw func(string) ([]byte, error)) {
		jobs = append(jobs, chartJob{
			chart: Chart{Scenario: s.Name, Title: title, File: file},
			draw:  func() ([]byte, error) { return draw(title) },
		})
	}
	for _, st := range s.Steps {
		if c, ok := capacityOf(st); ok {
			add(fmt.Sprintf("%s: %s — commitment per node", s.Name, st.Name),
				fmt.Sprintf("capacity-%s-%s.png", fileSafe(s.Name), fileSafe(st.Name)),
				func(title string) ([]byte, error) { return capacityPNG(title, c) })
			if len(c.Samples) > 1 {
				add(fmt.Sprintf("%s: %s — commitment over time", s.Name, st.Name),
					fmt.Sprintf("capacity-time-%s-%s.png", fileSafe(s.Name), fileSafe(st.Name)),
					func(title string) ([]byte, error) { return capacityTimePNG(title, c) })
			}
			continue
		}
		out, err := st.DecodedOutput()
		if err != nil {
			return jobs, fmt.Errorf("scenario %s step %q: %w", s.Name, st.Name, err)
		}
		if l, ok := out.(*model.LoadOutput); ok && len(l.Series) > 1 {
			add(fmt.Sprintf("%s: %s — load on %s", s.Name, st.Name, l.Target),
				fmt.Sprintf("load-%s-%s.png", fileSafe(s.Name), fileSafe(st.Name)),
				func(title string) ([]byte, error) { return loadPNG(title, l) })
			continue
		}
		series, ok := out.(model.AvailabilityCharted)
		if !ok {
			continue
		}
		for _, w := range series.AvailabilitySeries() {
			if len(w.Samples) == 0 {
				continue
			}
			add(fmt.Sprintf("%s: %s %s", s.Name, w.Kind, w.Name),
				fmt.Sprintf("availability-%s-%s.png", fileSafe(s.Name), fileSafe(w.Name)),
				func(title string) ([]byte, error) { return availabilityPNG(title, w) })
		}
	}
	return jobs, nil
}

// WriteCharts renders the charts into dir and returns their paths. Each
// is written atomically; one that cannot be is named and the rest still
// written.
func WriteCharts(dir string, r *model.Results) ([]string, error) {
	charts, err := AvailabilityCharts(r)
	if err != nil {
		return nil, err
	}
	return writeCharts(dir, charts)
}

// writeCharts writes charts already drawn.
func writeCharts(dir string, charts []Chart) ([]string, error) {
	var paths []string
	var errs []error
	for _, c := range charts {
		p := filepath.Join(dir, c.File)
		if err := writeAtomic(p, c.PNG); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		paths = append(paths, p)
	}
	return paths, errors.Join(errs...)
}

// uniqueFiles gives every chart its own file name: the same scenario run
// twice (on two clusters, say) or two steps charting one workload would
// otherwise write over each other.
func uniqueFiles(charts []Chart) {
	seen := map[string]int{}
	for i := range charts {
		name := charts[i].File
		seen[name]++
		if n := seen[name]; n > 1 {
			ext := filepath.Ext(name)
			charts[i].File = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), n, ext)
		}
	}
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

func fileSafe(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// availabilityPNG draws one workload's series. Replica counts hold until the
// next sample, so the lines are drawn as steps.
func availabilityPNG(title string, w model.WorkloadSeries) ([]byte, error) {
	end := w.End
	if end.IsZero() || end.Before(w.Samples[len(w.Samples)-1].Time) {
		end = w.Samples[len(w.Samples)-1].Time
	}
	availX, availY := decimate(stepLine(w.Samples, end, func(s model.Sample) float64 { return float64(s.Available) }))
	unavX, unavY := decimate(stepLine(w.Samples, end, func(s model.Sample) float64 { return float64(s.Unavailable) }))
	desiredX, desiredY := decimate(stepLine(w.Samples, end, func(s model.Sample) float64 { return float64(s.Desired) }))

	var series []chart.Series
	series = append(series, chunked(chart.TimeSeries{
		Name: "Desired replicas", YAxis: chart.YAxisSecondary, XValues: desiredX, YValues: desiredY,
		Style: chart.Style{StrokeColor: drawing.ColorFromHex("999999"), StrokeWidth: 1, StrokeDashArray: []float64{4, 3}},
	})...)
	series = append(series, chunked(chart.TimeSeries{
		Name: "Available pods (left axis)", YAxis: chart.YAxisSecondary, XValues: availX, YValues: availY,
		Style: chart.Style{StrokeColor: colorAvailable, StrokeWidth: 2},
	})...)
	series = append(series, chunked(chart.TimeSeries{
		Name: "Unavailable pods (right axis)", XValues: unavX, YValues: unavY,
		Style: chart.Style{StrokeColor: colorUnavailable, StrokeWidth: 2},
	})...)
	maxRight := 1.0
	for _, v := range unavY {
		maxRight = max(maxRight, v)
	}
	if len(w.Recovery.Batches) > 0 {
		var kx []time.Time
		var ky []float64
		for _, b := range w.Recovery.Batches {
			kx = append(kx, b.Time)
			ky = append(ky, float64(b.Killed))
			maxRight = max(maxRight, float64(b.Killed))
		}
		series = append(series, chart.TimeSeries{
			Name: "Killed pods per batch (right axis)", XValues: kx, YValues: ky,
			Style: chart.Style{StrokeWidth: chart.Disabled, StrokeColor: colorKilled, DotColor: colorKilled, DotWidth: 5},
		})
	}
	minLeft, maxLeft := float64(w.Desired), float64(w.Desired)
	for i := range availY {
		minLeft = min(minLeft, availY[i])
		maxLeft = max(maxLeft, availY[i])
	}
	for _, d := range desiredY {
		maxLeft = max(maxLeft, d)
	}
	pad := max(1, (maxLeft-minLeft)*0.1)
	left := newIntScale(max(0, minLeft-pad), maxLeft+pad)
	right := newIntScale(0, maxRight*1.15)
	format := "15:04:05"
	if end.Sub(w.Samples[0].Time) < time.Minute {
		format = "15:04:05.0"
	}
	c := chart.Chart{
		Title:      title,
		TitleStyle: chart.Style{FontSize: 13},
		Width:      1100,
		Height:     520,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 55, Right: 20, Bottom: 45}},
		XAxis: chart.XAxis{
			Name:           "time (UTC)",
			ValueFormatter: chart.TimeValueFormatterWithFormat(format),
			Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(w.Samples[0].Time), Max: chart.TimeToFloat64(end)},
		},
		// go-chart draws YAxis on the right and YAxisSecondary on the left;
		// its secondary axis mishandles explicit ticks, so kdrill draws the
		// left axis itself (leftAxis below).
		YAxisSecondary: chart.YAxis{Style: chart.Hidden(), Range: &chart.ContinuousRange{Min: left.min, Max: left.max}},
		YAxis:          right.axis("unavailable / killed pods"),
		Series:         series,
	}
	c.Elements = []chart.Renderable{nodeBands(w.NodesOut, w.Samples[0].Time, end), gapBands(w.Gaps, w.Samples[0].Time, end), bottomLegend(&c), left.render}
	png, err := renderPNG(c)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", title, err)
	}
	return png, nil
}
