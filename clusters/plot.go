package clusters

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"

	"github.com/qcredit/qcredit/model"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	limitColour  = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	pointColour  = color.RGBA{R: 0x33, G: 0x66, B: 0x99, A: 0xff}
	markedColour = color.RGBA{R: 0xc0, G: 0x00, B: 0x00, A: 0xff}
)

// funnelSVG draws a division's funnel plot with the marked cluster in red,
// as an SVG element for inline use (the XML prolog dropped). Axis labels are
// ASCII: the plot measures text with its Latin font, which has no Chinese
// glyphs; the letter names the axes in its caption.
func funnelSVG(f model.FunnelPlot, marked string) ([]byte, error) {
	if len(f.Limits) == 0 {
		return nil, errors.New("funnel plot: no checks to draw")
	}
	p := plot.New()
	p.X.Label.Text = "n (checks)"
	p.Y.Label.Text = "failure rate"
	p.X.Min, p.Y.Min = 0, 0
	p.Add(plotter.NewGrid())

	curves := []struct {
		pick   func(model.FunnelLimits) float64
		dashes []vg.Length
		label  string
	}{
		{func(l model.FunnelLimits) float64 { return l.High998 }, nil, "99.8%"},
		{func(l model.FunnelLimits) float64 { return l.High95 }, []vg.Length{vg.Points(4), vg.Points(3)}, "95%"},
		{func(l model.FunnelLimits) float64 { return l.Baseline }, []vg.Length{vg.Points(1), vg.Points(2)}, "p0"},
		{func(l model.FunnelLimits) float64 { return l.Low95 }, []vg.Length{vg.Points(4), vg.Points(3)}, ""},
		{func(l model.FunnelLimits) float64 { return l.Low998 }, nil, ""},
	}
	for _, c := range curves {
		xy := make(plotter.XYs, len(f.Limits))
		for i, l := range f.Limits {
			xy[i] = plotter.XY{X: float64(l.Checks), Y: c.pick(l)}
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("funnel plot: limit %s: %w", c.label, err)
		}
		line.Color, line.Dashes, line.Width = limitColour, c.dashes, vg.Points(1)
		p.Add(line)
		if c.label != "" {
			p.Legend.Add(c.label, line)
		}
	}

	var others, this plotter.XYs
	for _, pt := range f.Points {
		xy := plotter.XY{X: float64(pt.Checks), Y: pt.Rate}
		if pt.Cluster == marked {
			this = append(this, xy)
		} else {
			others = append(others, xy)
		}
	}
	for _, s := range []struct {
		xy     plotter.XYs
		colour color.Color
		radius vg.Length
		label  string
	}{{others, pointColour, vg.Points(2.5), "clusters"}, {this, markedColour, vg.Points(4.5), "this cluster"}} {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			return nil, fmt.Errorf("funnel plot: points: %w", err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: s.colour, Radius: s.radius, Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(s.label, sc)
	}
	p.Legend.Top = true
	// Limits at small n reach far up; the axis stops above the points
	// (lines are clipped to it) so that they stay readable, with a third of
	// the height free for the legend in the top right corner.
	top := 3 * f.Baseline
	for _, pt := range f.Points {
		top = max(top, pt.Rate)
	}
	p.Y.Max = min(1, 1.5*top)

	c := vgsvg.New(16*vg.Centimeter, 10*vg.Centimeter)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("funnel plot: write svg: %w", err)
	}
	svg := b.Bytes()
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		svg = svg[i:]
	}
	return svg, nil
}
