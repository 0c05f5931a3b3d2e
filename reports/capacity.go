package reports

import (
	"fmt"
	"io"
	"maps"
	"slices"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// capacityOf reads a capacity step's output, live or from results.json.
func capacityOf(st *model.StepResult) (*model.CapacityOutput, bool) {
	out, err := st.DecodedOutput()
	c, ok := out.(model.CommitmentCharted)
	if err != nil || !ok {
		return nil, false
	}
	return c.Commitment(), true
}

// capacityTable prints the commitment per node and for the cluster.
func capacityTable(w io.Writer, c *model.CapacityOutput) {
	fmt.Fprintf(w, "      %-18s %5s  %-26s %-26s\n", "node", "pods", "cpu requests / limits", "memory requests / limits")
	row := func(name string, n model.NodeCapacity) {
		fmt.Fprintf(w, "      %-18s %5d  %5.1f%% / %5.1f%% of %-7s %5.1f%% / %5.1f%% of %s\n", name, n.Pods,
			n.CPU.RequestsPercent, n.CPU.LimitsPercent, fmt.Sprintf("%.4g", n.CPU.Allocatable),
			n.Memory.RequestsPercent, n.Memory.LimitsPercent, bytesIEC(n.Memory.Allocatable))
	}
	for _, name := range sortedNodes(c) {
		row(name, c.Nodes[name])
	}
	row("cluster", c.Cluster)
}

func sortedNodes(c *model.CapacityOutput) []string {
	return slices.Sorted(maps.Keys(c.Nodes))
}

func bytesIEC(b float64) string {
	units := []string{"B", "Ki", "Mi", "Gi", "Ti", "Pi"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", b, units[i])
}

var capacityColors = []drawing.Color{
	drawing.ColorFromHex("1f5fbf"), drawing.ColorFromHex("8fb3e8"),
	drawing.ColorFromHex("c0179a"), drawing.ColorFromHex("e79ad8"),
}

// capacityPNG draws, per node, four bars: CPU requests and limits, memory
// requests and limits, each in percent of what the node can allocate.
func capacityPNG(title string, c *model.CapacityOutput) ([]byte, error) {
	var bars []chart.Value
	names := sortedNodes(c)
	for i, name := range names {
		n := c.Nodes[name]
		for j, v := range []float64{n.CPU.RequestsPercent, n.CPU.LimitsPercent, n.Memory.RequestsPercent, n.Memory.LimitsPercent} {
			bars = append(bars, chart.Value{Value: v, Style: chart.Style{FillColor: capacityColors[j], StrokeColor: capacityColors[j], StrokeWidth: 1}})
		}
		if i < len(names)-1 {
			bars = append(bars, chart.Value{Value: 0, Style: chart.Style{FillColor: drawing.ColorTransparent, StrokeColor: drawing.ColorTransparent}})
		}
	}
	top := 100.0
	for _, b := range bars {
		top = max(top, b.Value)
	}
	scale := newIntScale(0, top)
	font, err := chart.GetDefaultFont()
	if err != nil {
		return nil, err
	}
	bc := chart.BarChart{
		Title:      title,
		TitleStyle: chart.Style{FontSize: 13},
		Width:      1100,
		Height:     480,
		BarWidth:   max(8, min(40, 900/max(1, len(bars)))),
		BarSpacing: 2,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 20, Right: 20, Bottom: 45}},
		YAxis:      chart.YAxis{Name: "% of allocatable", Range: &chart.ContinuousRange{Min: scale.min, Max: scale.max}, Ticks: scale.ticks()},
		XAxis:      chart.Style{Font: font, FontSize: 10, FontColor: drawing.ColorFromHex("333333"), StrokeColor: drawing.ColorFromHex("333333"), StrokeWidth: 1},
		Bars:       bars,
	}
	bc.Elements = []chart.Renderable{func(r chart.Renderer, box chart.Box, _ chart.Style) {
		legendRow(r, bc.Height-12, []string{"CPU requests", "CPU limits", "memory requests", "memory limits"}, capacityColors)
		// Node names under their groups of bars, laid out as go-chart lays
		// out the bars (its own labels do not show).
		step := float64(bc.BarWidth + bc.BarSpacing)
		if total := step * float64(len(bars)); total > float64(box.Width()) {
			step *= float64(box.Width()) / total
		}
		textStyle(r, 10)
		for i, name := range names {
			center := float64(box.Left) + step*(float64(i*5)+2)
			w := r.MeasureText(name).Width()
			r.Text(name, int(center)-w/2, box.Bottom+18)
		}
	}}
	png, err := renderPNG(bc)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", title, err)
	}
	return png, nil
}

// legendRow draws coloured boxes and names in one row at height y.
func legendRow(r chart.Renderer, y int, names []string, colors []drawing.Color) {
	if !textStyle(r, 11) {
		return
	}
	x := 60
	for i, name := range names {
		r.SetFillColor(colors[i])
		r.SetStrokeColor(colors[i])
		r.MoveTo(x, y-10)
		r.LineTo(x+12, y-10)
		r.LineTo(x+12, y+1)
		r.LineTo(x, y+1)
		r.Close()
		r.FillStroke()
		r.Text(name, x+18, y)
		x += 18 + r.MeasureText(name).Width() + 28
	}
}
