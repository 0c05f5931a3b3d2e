package reports

import (
	"fmt"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// outcomeColors colour the timeline's bars as report.html does.
var outcomeColors = map[model.Outcome]drawing.Color{
	model.Passed:        drawing.ColorFromHex("1e8a4c"),
	model.Failed:        drawing.ColorFromHex("c62828"),
	model.Errored:       drawing.ColorFromHex("b26a00"),
	model.Cancelled:     drawing.ColorFromHex("6a4fb3"),
	model.Running:       drawing.ColorFromHex("1f5fbf"),
	model.Skipped:       drawing.ColorFromHex("8a8a8a"),
	model.NotApplicable: drawing.ColorFromHex("2b7a8c"),
}

// timelineRow is one step's bar on the timeline.
type timelineRow struct {
	label      string
	start, end time.Time
	outcome    model.Outcome
}

// timelinePNG draws a scenario's steps as a Gantt chart: one row per step
// that ran, a bar from its start to its end coloured by its outcome, and
// background steps overlapping the ones they ran beside. ok is false when
// no step ran.
func timelinePNG(s *model.ScenarioResult) (png []byte, ok bool, err error) {
	var rows []timelineRow
	end := s.FinishedAt
	for _, st := range s.Steps {
		if st.StartedAt.IsZero() {
			continue
		}
		finish := st.FinishedAt
		if finish.IsZero() {
			finish = st.StartedAt
		}
		label := st.Name
		if st.Phase == model.PhaseFinally {
			label = "finally: " + label
		}
		if r := []rune(label); len(r) > 32 {
			label = string(r[:31]) + "…"
		}
		rows = append(rows, timelineRow{label: label + " [" + st.Kind + "]", start: st.StartedAt, end: finish, outcome: st.Outcome})
		if finish.After(end) {
			end = finish
		}
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	start := s.StartedAt
	if start.IsZero() || rows[0].start.Before(start) {
		start = rows[0].start
	}
	if !end.After(start) {
		end = start.Add(time.Second)
	}
	rowHeight := 26
	height := 110 + rowHeight*len(rows)
	// A bar must show even when the step took no visible time.
	minWidth := end.Sub(start) / 300
	var series []chart.Series
	for i, row := range rows {
		y := float64(len(rows) - 1 - i)
		barEnd := row.end
		if barEnd.Sub(row.start) < minWidth {
			barEnd = row.start.Add(minWidth)
		}
		series = append(series, chart.TimeSeries{
			XValues: []time.Time{row.start, barEnd},
			YValues: []float64{y, y},
			Style:   chart.Style{StrokeColor: outcomeColors[row.outcome], StrokeWidth: float64(rowHeight) * 0.6},
		})
	}
	format := "15:04:05"
	if end.Sub(start) < time.Minute {
		format = "15:04:05.0"
	}
	labels := func(r chart.Renderer, box chart.Box, _ chart.Style) {
		if !textStyle(r, 11) {
			return
		}
		for i, row := range rows {
			y := box.Top + int((float64(i)+0.5)*float64(box.Height())/float64(len(rows)))
			w := r.MeasureText(row.label).Width()
			r.Text(row.label, box.Left-10-w, y+4)
		}
	}
	c := chart.Chart{
		Title:      s.Name + ": step timeline",
		TitleStyle: chart.Style{FontSize: 13},
		Width:      1100,
		Height:     height,
		Background: chart.Style{Padding: chart.Box{Top: 45, Left: 290, Right: 30, Bottom: 25}},
		XAxis: chart.XAxis{
			Name:           "time (UTC)",
			ValueFormatter: chart.TimeValueFormatterWithFormat(format),
			Range:          &chart.ContinuousRange{Min: chart.TimeToFloat64(start), Max: chart.TimeToFloat64(end)},
			GridMajorStyle: chart.Style{StrokeColor: drawing.ColorFromHex("e6e6e6"), StrokeWidth: 1},
		},
		YAxis:  chart.YAxis{Style: chart.Hidden(), Range: &chart.ContinuousRange{Min: -0.5, Max: float64(len(rows)) - 0.5}},
		Series: series,
	}
	c.Elements = []chart.Renderable{labels, outcomeLegend(rows)}
	png, err = renderPNG(c)
	if err != nil {
		return nil, false, fmt.Errorf("render the timeline of %s: %w", s.Name, err)
	}
	return png, true, nil
}

// outcomeLegend names the colours of the outcomes on the chart, top right.
func outcomeLegend(rows []timelineRow) chart.Renderable {
	return func(r chart.Renderer, box chart.Box, _ chart.Style) {
		if !textStyle(r, 11) {
			return
		}
		var present []model.Outcome
		for _, o := range []model.Outcome{model.Passed, model.Failed, model.Errored, model.Cancelled, model.Running, model.Skipped, model.NotApplicable} {
			for _, row := range rows {
				if row.outcome == o {
					present = append(present, o)
					break
				}
			}
		}
		x := box.Right
		for i := len(present) - 1; i >= 0; i-- {
			label := string(present[i])
			x -= r.MeasureText(label).Width() + 26
			r.SetFillColor(outcomeColors[present[i]])
			r.SetStrokeColor(outcomeColors[present[i]])
			r.SetStrokeWidth(1)
			r.MoveTo(x, 24)
			r.LineTo(x+12, 24)
			r.LineTo(x+12, 36)
			r.LineTo(x, 36)
			r.Close()
			r.FillStroke()
			r.Text(label, x+17, 35)
		}
	}
}
