package reports

import (
	"fmt"
	"math"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"github.com/kdrill/kdrill/model"
)

// intScale is a pod-count scale with whole-number ticks at a round step,
// starting and ending on a tick.
type intScale struct {
	min, max, step float64
}

func newIntScale(lo, hi float64) intScale {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000} {
		step = s
		if (hi-lo)/s <= 8 {
			break
		}
	}
	first := math.Floor(lo/step) * step
	last := math.Ceil(hi/step) * step
	if last == first {
		last = first + step
	}
	return intScale{min: first, max: last, step: step}
}

func (s intScale) ticks() []chart.Tick {
	var ticks []chart.Tick
	for v := s.min; v <= s.max+s.step/2; v += s.step {
		ticks = append(ticks, chart.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return ticks
}

// axis is a go-chart axis on this scale.
func (s intScale) axis(name string) chart.YAxis {
	return chart.YAxis{Name: name, Range: &chart.ContinuousRange{Min: s.min, Max: s.max}, Ticks: s.ticks()}
}

// render draws this scale as the left axis of the plot area, with grid
// lines, for the series mapped to go-chart's secondary axis.
func (s intScale) render(r chart.Renderer, box chart.Box, _ chart.Style) {
	if !textStyle(r, 10) {
		return
	}
	r.SetStrokeColor(drawing.ColorFromHex("333333"))
	r.SetStrokeWidth(1)
	r.MoveTo(box.Left, box.Top)
	r.LineTo(box.Left, box.Bottom)
	r.Stroke()
	for _, t := range s.ticks() {
		y := box.Bottom - int((t.Value-s.min)/(s.max-s.min)*float64(box.Height()))
		r.SetStrokeColor(drawing.ColorFromHex("333333"))
		r.MoveTo(box.Left-5, y)
		r.LineTo(box.Left, y)
		r.Stroke()
		r.SetStrokeColor(drawing.ColorFromHex("e6e6e6"))
		r.MoveTo(box.Left+1, y)
		r.LineTo(box.Right, y)
		r.Stroke()
		w := r.MeasureText(t.Label).Width()
		r.Text(t.Label, box.Left-9-w, y+4)
	}
}

// chartColumns is how many time buckets a series keeps: about one per
// pixel column of the plot.
const chartColumns = 1000

// chunkPoints is the most points go-chart strokes as one path. Its
// rasterizer slows down sharply with a path's length, so a long series is
// drawn as consecutive short ones (sharing their end points); only the
// first carries the name, for the legend.
const chunkPoints = 32

func chunked(ts chart.TimeSeries) []chart.Series {
	if len(ts.XValues) <= chunkPoints {
		return []chart.Series{ts}
	}
	var out []chart.Series
	for i := 0; i < len(ts.XValues)-1; i += chunkPoints {
		j := min(len(ts.XValues), i+chunkPoints+1)
		part := ts
		part.XValues, part.YValues = ts.XValues[i:j], ts.YValues[i:j]
		if i > 0 {
			part.Name = ""
		}
		out = append(out, part)
	}
	return out
}

// decimate thins a long series for drawing without losing what matters:
// per time bucket it keeps the first and last points and the minimum and
// maximum (in the order they happened), so a dip in availability or a
// spike in unavailable pods shows at its true depth however long the run.
// Kill markers are drawn from the batches, not from this series.
func decimate(xs []time.Time, ys []float64) ([]time.Time, []float64) {
	if len(xs) <= 4*chartColumns {
		return xs, ys
	}
	start, span := xs[0], xs[len(xs)-1].Sub(xs[0])
	outX := make([]time.Time, 0, 4*chartColumns+1)
	outY := make([]float64, 0, 4*chartColumns+1)
	keep := func(i int) {
		if n := len(outX); n > 0 && outX[n-1].Equal(xs[i]) && outY[n-1] == ys[i] {
			return
		}
		outX, outY = append(outX, xs[i]), append(outY, ys[i])
	}
	for i := 0; i < len(xs); {
		bucket := int(int64(xs[i].Sub(start)) * chartColumns / max(1, int64(span)))
		lo, hi, j := i, i, i
		for ; j < len(xs) && int(int64(xs[j].Sub(start))*chartColumns/max(1, int64(span))) == bucket; j++ {
			if ys[j] < ys[lo] {
				lo = j
			}
			if ys[j] > ys[hi] {
				hi = j
			}
		}
		keep(i)
		keep(min(lo, hi))
		keep(max(lo, hi))
		keep(j - 1)
		i = j
	}
	return outX, outY
}

// stepLine turns samples into a step line: each value holds until the next
// sample, then the line jumps.
func stepLine(samples []model.Sample, end time.Time, value func(model.Sample) float64) ([]time.Time, []float64) {
	xs := make([]time.Time, 0, 2*len(samples)+1)
	ys := make([]float64, 0, 2*len(samples)+1)
	for i, s := range samples {
		if i > 0 {
			xs = append(xs, s.Time)
			ys = append(ys, ys[len(ys)-1])
		}
		xs = append(xs, s.Time)
		ys = append(ys, value(s))
	}
	xs = append(xs, end)
	ys = append(ys, ys[len(ys)-1])
	return xs, ys
}

// bottomLegend draws the series' names in one row under the chart, where it
// cannot hide any data.
func bottomLegend(c *chart.Chart) chart.Renderable {
	return func(r chart.Renderer, _ chart.Box, defaults chart.Style) {
		if !textStyle(r, 11) {
			return
		}
		x, y := 60, c.Height-12
		for _, s := range c.Series {
			ts, ok := s.(chart.TimeSeries)
			if !ok || ts.Name == "" {
				continue // a continuation of a long series
			}
			st := ts.Style
			if st.StrokeWidth == chart.Disabled {
				r.SetFillColor(st.DotColor)
				r.SetStrokeColor(st.DotColor)
				r.Circle(4, x+10, y-4)
				r.FillStroke()
			} else {
				r.SetStrokeColor(st.StrokeColor)
				r.SetStrokeWidth(max(st.StrokeWidth, 1))
				r.SetStrokeDashArray(st.StrokeDashArray)
				r.MoveTo(x, y-4)
				r.LineTo(x+20, y-4)
				r.Stroke()
				r.SetStrokeDashArray(nil)
			}
			r.Text(ts.Name, x+26, y)
			x += 26 + r.MeasureText(ts.Name).Width() + 28
		}
	}
}

// textStyle sets the font for text kdrill draws on a chart itself; it
// reports false when the font cannot be had.
func textStyle(r chart.Renderer, size float64) bool {
	font, err := chart.GetDefaultFont()
	if err != nil {
		return false
	}
	r.SetFont(font)
	r.SetFontSize(size)
	r.SetFontColor(drawing.ColorFromHex("333333"))
	return true
}

// gapBands greys out the times the API server could not be reached, over
// the lines, so no one reads the last value held as data.
// colorNodeOut shades the times a node was out of service.
var colorNodeOut = drawing.Color{R: 255, G: 196, B: 120, A: 90}

// nodeBands shades, behind the series, each time a node was out of
// service (cordoned, tainted, NotReady), named at its foot; a window still
// open at the end runs to the chart's edge.
func nodeBands(windows []model.NodeWindow, from, to time.Time) chart.Renderable {
	return func(r chart.Renderer, box chart.Box, _ chart.Style) {
		for i, w := range windows {
			end := w.End
			if end.IsZero() || end.After(to) {
				end = to
			}
			start := w.Start
			if start.Before(from) {
				start = from
			}
			// Staggered, so bands that start together stay readable.
			band(r, box, from, to, start, end, colorNodeOut, drawing.Color{R: 230, G: 140, B: 40, A: 160},
				w.Node+" "+w.Reason, box.Bottom-6-12*(i%4))
		}
	}
}

// band fills the chart's height between two times, with a label at y.
func band(r chart.Renderer, box chart.Box, from, to, start, end time.Time, fill, stroke drawing.Color, label string, y int) {
	span := to.Sub(from)
	if span <= 0 {
		return
	}
	x := func(t time.Time) int {
		return box.Left + int(float64(box.Width())*float64(t.Sub(from))/float64(span))
	}
	x0, x1 := x(start), max(x(end), x(start)+2)
	r.SetFillColor(fill)
	r.SetStrokeColor(stroke)
	r.SetStrokeWidth(1)
	r.MoveTo(x0, box.Top)
	r.LineTo(x1, box.Top)
	r.LineTo(x1, box.Bottom)
	r.LineTo(x0, box.Bottom)
	r.Close()
	r.FillStroke()
	if textStyle(r, 10) {
		r.Text(label, x0+3, y)
	}
}

func gapBands(gaps []model.Gap, from, to time.Time) chart.Renderable {
	return func(r chart.Renderer, box chart.Box, _ chart.Style) {
		for _, g := range gaps {
			band(r, box, from, to, g.Start, g.End, drawing.Color{R: 200, G: 200, B: 200, A: 220}, drawing.Color{R: 150, G: 150, B: 150, A: 255},
				"API server unreachable", box.Top+14)
		}
	}
}
