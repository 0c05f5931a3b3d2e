package reports

import (
	"fmt"
	"maps"
	"slices"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// capacityTimePNG draws a sampling capacity step: each node's memory
// limits in percent of what it can allocate (the question of the seed
// this follows: is there memory for every commitment?), and the cluster's
// memory limits and CPU requests, over time.
func capacityTimePNG(title string, c *model.CapacityOutput) ([]byte, error) {
	var xs []time.Time
	nodes := map[string]bool{}
	for _, s := range c.Samples {
		xs = append(xs, s.Time)
		for name, n := range s.Nodes {
			if n.Pods > 0 {
				nodes[name] = true
			}
		}
	}
	names := slices.Sorted(maps.Keys(nodes))
	top := 100.0
	var series []chart.Series
	for i, name := range names {
		var ys []float64
		for _, s := range c.Samples {
			ys = append(ys, s.Nodes[name].MemoryLimitsPercent)
			top = max(top, s.Nodes[name].MemoryLimitsPercent)
		}
		color := trendPalette[i%len(trendPalette)]
		series = append(series, chart.TimeSeries{Name: "memory limits % on " + name, XValues: xs, YValues: ys, Style: chart.Style{StrokeColor: color, StrokeWidth: 2}})
	}
	var mem, cpu []float64
	for _, s := range c.Samples {
		mem = append(mem, s.Cluster.MemoryLimitsPercent)
		cpu = append(cpu, s.Cluster.CPURequestsPercent)
		top = max(top, s.Cluster.MemoryLimitsPercent, s.Cluster.CPURequestsPercent)
	}
	series = append(series,
		chart.TimeSeries{Name: "cluster memory limits %", XValues: xs, YValues: mem, Style: chart.Style{StrokeColor: drawing.ColorFromHex("333333"), StrokeWidth: 1, StrokeDashArray: []float64{5, 3}}},
		chart.TimeSeries{Name: "cluster CPU requests %", XValues: xs, YValues: cpu, Style: chart.Style{StrokeColor: drawing.ColorFromHex("999999"), StrokeWidth: 1, StrokeDashArray: []float64{2, 2}}},
	)
	scale := newIntScale(0, top*1.1)
	end := xs[len(xs)-1]
	c2 := chart.Chart{
		Title:      title,
		TitleStyle: chart.Style{FontSize: 13},
		Width:      1100,
		Height:     480,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 45}},
		XAxis: chart.XAxis{
			Name:           "time (UTC)",
			ValueFormatter: chart.TimeValueFormatterWithFormat("15:04:05"),
			Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(xs[0]), Max: chart.TimeToFloat64(end)},
		},
		YAxis:  scale.axis("percent of allocatable"),
		Series: series,
	}
	c2.Elements = []chart.Renderable{bottomLegend(&c2)}
	png, err := renderPNG(c2)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", title, err)
	}
	return png, nil
}
