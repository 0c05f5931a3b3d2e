package reports

import (
	"fmt"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

var (
	colorSent   = drawing.ColorFromHex("1f5fbf")
	colorFailed = drawing.ColorFromHex("d62728")
	colorP50    = drawing.ColorFromHex("1e8a4c")
	colorP99    = drawing.ColorFromHex("b26a00")
)

// loadPNG draws a load step's seconds: requests sent and failed per second
// (right axis) and the latency p50 and p99 of each second (left axis, ms).
func loadPNG(title string, l *model.LoadOutput) ([]byte, error) {
	var xs []time.Time
	var sent, failed, p50, p99 []float64
	maxRight, maxLeft := 1.0, 1.0
	for _, s := range l.Series {
		xs = append(xs, s.Time)
		sent = append(sent, float64(s.Sent))
		failed = append(failed, float64(s.Failed+s.Dropped))
		p50 = append(p50, ms(s.P50.Duration))
		p99 = append(p99, ms(s.P99.Duration))
		maxRight = max(maxRight, float64(s.Sent), float64(s.Failed+s.Dropped))
		maxLeft = max(maxLeft, ms(s.P99.Duration))
	}
	left, right := newIntScale(0, maxLeft*1.15), newIntScale(0, maxRight*1.15)
	series := []chart.Series{
		chart.TimeSeries{Name: "p99 latency, ms (left)", YAxis: chart.YAxisSecondary, XValues: xs, YValues: p99, Style: chart.Style{StrokeColor: colorP99, StrokeWidth: 2}},
		chart.TimeSeries{Name: "p50 latency, ms (left)", YAxis: chart.YAxisSecondary, XValues: xs, YValues: p50, Style: chart.Style{StrokeColor: colorP50, StrokeWidth: 2}},
		chart.TimeSeries{Name: "sent per second (right)", XValues: xs, YValues: sent, Style: chart.Style{StrokeColor: colorSent, StrokeWidth: 1, StrokeDashArray: []float64{4, 3}}},
		chart.TimeSeries{Name: "failed or dropped per second (right)", XValues: xs, YValues: failed, Style: chart.Style{StrokeColor: colorFailed, StrokeWidth: 2}},
	}
	end := xs[len(xs)-1].Add(time.Second)
	c := chart.Chart{
		Title:      title,
		TitleStyle: chart.Style{FontSize: 13},
		Width:      1100,
		Height:     520,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 55, Right: 20, Bottom: 45}},
		XAxis: chart.XAxis{
			Name:           "time (UTC)",
			ValueFormatter: chart.TimeValueFormatterWithFormat("15:04:05"),
			Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(xs[0]), Max: chart.TimeToFloat64(end)},
		},
		YAxisSecondary: chart.YAxis{Style: chart.Hidden(), Range: &chart.ContinuousRange{Min: left.min, Max: left.max}},
		YAxis:          right.axis("requests per second"),
		Series:         series,
	}
	c.Elements = []chart.Renderable{bottomLegend(&c), left.render}
	png, err := renderPNG(c)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", title, err)
	}
	return png, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
