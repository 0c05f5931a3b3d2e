package reports

import (
	"bytes"
	"image"
	"image/png"
	"testing"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"

	"github.com/kdrill/kdrill/model"
)

// The PNG renderPNG encodes is the image go-chart draws, pixel for pixel.
func TestRenderPNGIsTheChartGoChartDraws(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	s := &model.ScenarioResult{Name: "demo", StartedAt: t0, FinishedAt: t0.Add(3 * time.Second), Steps: []*model.StepResult{
		{Name: "deploy", Kind: "apply", Outcome: model.Passed, StartedAt: t0, FinishedAt: t0.Add(time.Second)},
		{Name: "check", Kind: "assert", Outcome: model.Failed, StartedAt: t0.Add(time.Second), FinishedAt: t0.Add(3 * time.Second)},
	}}
	ours, ok, err := timelinePNG(s)
	if err != nil || !ok {
		t.Fatalf("timeline: %v, drawn %v", err, ok)
	}
	c := chart.Chart{Width: 300, Height: 200, Series: []chart.Series{chart.ContinuousSeries{XValues: []float64{0, 1, 2}, YValues: []float64{1, 3, 2}}}}
	var theirs bytes.Buffer
	if err := c.Render(chart.PNG, &theirs); err != nil {
		t.Fatal(err)
	}
	fast, err := renderPNG(c)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decode(t, theirs.Bytes()), decode(t, fast)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v and %v", a.Bounds(), b.Bounds())
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel %d,%d: %v and %v", x, y, a.At(x, y), b.At(x, y))
			}
		}
	}
	if img := decode(t, ours); img.Bounds().Dx() != 1100 {
		t.Errorf("timeline width %d", img.Bounds().Dx())
	}
}

func decode(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
