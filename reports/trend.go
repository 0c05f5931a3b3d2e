package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// DefaultTrendMetrics are the metrics kdrill report trend draws when none
// are named: how long scenarios take, how fast they recover, how low
// availability falls, and lab scores.
var DefaultTrendMetrics = []string{"duration", "steps[*].recovery.p95", "steps[*].minAvailable", "steps[*].successRatio", "score"}

// TrendPoint is one run's value of a metric; Missing when that run did not
// record it (the scenario failed before, or did not run).
type TrendPoint struct {
	Run     time.Time
	Value   float64
	Missing bool
}

// TrendSeries is one scenario's metric across runs, oldest first.
type TrendSeries struct {
	Scenario, Metric string
	Seconds          bool
	Points           []TrendPoint
}

// Trend gathers the metrics matching patterns (names, or * for any text)
// from runs, ordered by when each run started.
func Trend(runs []*model.Results, patterns []string) []TrendSeries {
	sorted := append([]*model.Results(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].StartedAt.Before(sorted[j].StartedAt) })
	byKey := map[string]*TrendSeries{}
	var keys []string
	for i, r := range sorted {
		for _, m := range Metrics(r) {
			if !matchesAny(patterns, m.Name) {
				continue
			}
			key := m.Scenario + "\x00" + m.Name
			s, ok := byKey[key]
			if !ok {
				s = &TrendSeries{Scenario: m.Scenario, Metric: m.Name, Seconds: m.Seconds}
				for _, earlier := range sorted[:i] {
					s.Points = append(s.Points, TrendPoint{Run: earlier.StartedAt, Missing: true})
				}
				byKey[key] = s
				keys = append(keys, key)
			}
			s.Points = append(s.Points, TrendPoint{Run: r.StartedAt, Value: m.Value})
		}
		for _, s := range byKey { // runs that lacked a metric leave a gap
			if len(s.Points) < i+1 {
				s.Points = append(s.Points, TrendPoint{Run: r.StartedAt, Missing: true})
			}
		}
	}
	sort.Strings(keys)
	out := make([]TrendSeries, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if model.GlobMatch(p, name) {
			return true
		}
	}
	return false
}

// WriteTrendCSV writes one row per run and series: scenario, metric, run
// start, value (empty when missing).
func WriteTrendCSV(w io.Writer, series []TrendSeries) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"scenario", "metric", "run", "value"})
	for _, s := range series {
		for _, p := range s.Points {
			v := ""
			if !p.Missing {
				v = strconv.FormatFloat(p.Value, 'g', -1, 64)
			}
			_ = cw.Write([]string{s.Scenario, s.Metric, p.Run.UTC().Format(time.RFC3339), v})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTrendTable prints each series' first and last value, its range and
// the change, oldest run to newest.
func WriteTrendTable(w io.Writer, series []TrendSeries) {
	fmt.Fprintf(w, "%-24s %-40s %5s %12s %12s %12s %12s %8s\n", "scenario", "metric", "runs", "first", "last", "min", "max", "change")
	for _, s := range series {
		var vals []float64
		for _, p := range s.Points {
			if !p.Missing {
				vals = append(vals, p.Value)
			}
		}
		if len(vals) == 0 {
			continue
		}
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		f := func(v float64) string { return formatMetric(Metric{Value: v, Seconds: s.Seconds}) }
		change := ""
		if vals[0] != 0 {
			change = fmt.Sprintf("%+.0f%%", 100*(vals[len(vals)-1]-vals[0])/math.Abs(vals[0]))
		}
		fmt.Fprintf(w, "%-24s %-40s %5d %12s %12s %12s %12s %8s\n", s.Scenario, s.Metric, len(vals), f(vals[0]), f(vals[len(vals)-1]), f(lo), f(hi), change)
	}
}

var trendPalette = []drawing.Color{
	drawing.ColorFromHex("1f5fbf"), drawing.ColorFromHex("c0179a"), drawing.ColorFromHex("1e8a4c"),
	drawing.ColorFromHex("b26a00"), drawing.ColorFromHex("6a4fb3"), drawing.ColorFromHex("d62728"),
}

// TrendCharts draws one chart per metric, a line per scenario across the
// runs; a run that lacked the value breaks the line.
func TrendCharts(series []TrendSeries) ([]Chart, error) {
	byMetric := map[string][]TrendSeries{}
	var metrics []string
	for _, s := range series {
		if _, ok := byMetric[s.Metric]; !ok {
			metrics = append(metrics, s.Metric)
		}
		byMetric[s.Metric] = append(byMetric[s.Metric], s)
	}
	sort.Strings(metrics)
	var charts []Chart
	for _, metric := range metrics {
		var lines []chart.Series
		lo, hi := math.Inf(1), math.Inf(-1)
		var first, last time.Time
		for i, s := range byMetric[metric] {
			style := chart.Style{StrokeColor: trendPalette[i%len(trendPalette)], StrokeWidth: 2, DotColor: trendPalette[i%len(trendPalette)], DotWidth: 3}
			named := false
			var xs []time.Time
			var ys []float64
			flush := func() {
				if len(xs) == 0 {
					return
				}
				ts := chart.TimeSeries{XValues: xs, YValues: ys, Style: style}
				if !named {
					ts.Name, named = s.Scenario, true
				}
				lines = append(lines, ts)
				xs, ys = nil, nil
			}
			for _, p := range s.Points {
				if first.IsZero() || p.Run.Before(first) {
					first = p.Run
				}
				if p.Run.After(last) {
					last = p.Run
				}
				if p.Missing {
					flush()
					continue
				}
				xs, ys = append(xs, p.Run), append(ys, p.Value)
				lo, hi = min(lo, p.Value), max(hi, p.Value)
			}
			flush()
		}
		if len(lines) == 0 {
			continue
		}
		if !last.After(first) {
			last = first.Add(time.Hour)
		}
		pad := max((hi-lo)*0.1, math.Abs(hi)*0.05, 0.01)
		unit := ""
		if byMetric[metric][0].Seconds {
			unit = " (seconds)"
		}
		c := chart.Chart{
			Title:      "trend: " + metric,
			TitleStyle: chart.Style{FontSize: 13},
			Width:      1100,
			Height:     460,
			Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 45}},
			XAxis: chart.XAxis{
				Name:           "run started (UTC)",
				ValueFormatter: chart.TimeValueFormatterWithFormat("01-02 15:04"),
				Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(first), Max: chart.TimeToFloat64(last)},
			},
			YAxis:  chart.YAxis{Name: metric + unit, Range: &chart.ContinuousRange{Min: lo - pad, Max: hi + pad}},
			Series: lines,
		}
		c.Elements = []chart.Renderable{bottomLegend(&c)}
		png, err := renderPNG(c)
		if err != nil {
			return nil, fmt.Errorf("render the trend of %s: %w", metric, err)
		}
		charts = append(charts, Chart{Title: "trend: " + metric, File: "trend-" + fileSafe(metric) + ".png", PNG: png})
	}
	return charts, nil
}
