package reports

import (
	"bytes"
	"image"
	"image/png"
	"io"

	chart "github.com/wcharczuk/go-chart/v2"
)

// renderable is a go-chart chart (line, bar).
type renderable interface {
	Render(rp chart.RendererProvider, w io.Writer) error
}

// fastPNG encodes PNGs for speed over size: most of a chart's drawing time
// went to go-chart's PNG encoding at the default compression.
var fastPNG = png.Encoder{CompressionLevel: png.BestSpeed}

// renderPNG draws a chart and encodes it as PNG. go-chart hands the drawn
// image to a writer that collects it (chart.RGBACollector) instead of
// encoding it itself.
func renderPNG(c renderable) ([]byte, error) {
	var img rgbaCollector
	if err := c.Render(chart.PNG, &img); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := fastPNG.Encode(&buf, img.rgba); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rgbaCollector is a chart.RGBACollector: the image go-chart drew.
type rgbaCollector struct{ rgba *image.RGBA }

func (c *rgbaCollector) SetRGBA(i *image.RGBA) { c.rgba = i }

// Write is never called: go-chart's raster renderer gives a collector the
// image instead of writing PNG bytes.
func (c *rgbaCollector) Write(p []byte) (int, error) { return len(p), nil }
