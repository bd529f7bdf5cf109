package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/portcullis-gw/portcullis/bench/hist"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH           = 760, 420
	padL, padR, padT, padB = 70, 150, 40, 50
	// xMax is the highest percentile axis position: log10(1/(1−q)) = 4 is
	// p99.99.
	xMax = 4.0
)

// colors gives each known contender the same color in every plot.
var colors = map[string]string{
	"backend": "#888888", "portcullis": "#c0392b", "nginx": "#27ae60",
	"haproxy": "#2e86c1", "caddy": "#e67e22", "bareproxy": "#8e44ad",
}

var spare = []string{"#16a085", "#d4ac0d", "#5d6d7e", "#a93226"}

// SVG writes a plot of each contender's latency by percentile, both axes
// logarithmic: the percentile axis as log10(1/(1−q)), so p50, p90, p99,
// p99.9 and p99.99 are evenly spaced and the tail, where proxies differ,
// gets most of the width. A curve stops at the highest percentile its
// request count can resolve. In the reload scenario each contender also has
// a dashed curve: its rounds without reloads.
func SVG(w io.Writer, sc *Scenario) error {
	type curve struct {
		name, color string
		// dashed marks the reload scenario's rounds without reloads.
		dashed bool
		pts    [][2]float64 // x, latency in µs
	}
	var curves []curve
	lo, hi := math.Inf(1), math.Inf(-1)
	add := func(name, col string, dashed bool, h *hist.Histogram) {
		if h == nil || h.Count() == 0 {
			return
		}
		cv := curve{name: name, color: col, dashed: dashed}
		top := math.Min(xMax, math.Log10(float64(h.Count())))
		for x := 0.0; x <= top+1e-9; x += 0.02 {
			q := 1 - math.Pow(10, -x)
			v := math.Max(float64(h.Quantile(q))/1e3, 1)
			cv.pts = append(cv.pts, [2]float64{x, v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		curves = append(curves, cv)
	}
	for i, c := range sc.Contenders {
		if c.Skipped != "" {
			continue
		}
		col, ok := colors[c.Name]
		if !ok {
			col = spare[i%len(spare)]
		}
		add(c.Name, col, false, c.Hist)
		add(c.Name+", steady", col, true, c.SteadyHist)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotW, plotH, plotW, plotH)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">Latency by percentile: %s (log scales)</text>`+"\n",
		padL, html.EscapeString(sc.Name))
	if len(curves) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no latencies recorded</text>`+"\n", padL, plotH/2)
		b.WriteString("</svg>\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	yLo, yHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yHi <= yLo {
		yHi = yLo + 1
	}
	iw, ih := float64(plotW-padL-padR), float64(plotH-padT-padB)
	px := func(x float64) float64 { return float64(padL) + x/xMax*iw }
	py := func(v float64) float64 { return float64(padT) + (yHi-math.Log10(v))/(yHi-yLo)*ih }
	axes(&b, px, py, yLo, yHi)
	for i, cv := range curves {
		var pts []string
		for _, p := range cv.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p[0]), py(p[1])))
		}
		dash := ""
		if cv.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", cv.color, dash, strings.Join(pts, " "))
		ly := padT + 10 + i*20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>`+"\n",
			plotW-padR+15, ly, plotW-padR+40, ly, cv.color, dash)
		size := "" // the dashed entries' longer names get a smaller font to fit
		if cv.dashed {
			size = ` font-size="11"`
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d"%s>%s</text>`+"\n", plotW-padR+46, ly+4, size, html.EscapeString(cv.name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// axes draws the frame, the grid and the tick labels.
func axes(b *strings.Builder, px func(float64) float64, py func(float64) float64, yLo, yHi float64) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n",
		padL, padT, plotW-padL-padR, plotH-padT-padB)
	xt := []struct {
		x     float64
		label string
	}{{0, "p0"}, {math.Log10(2), "p50"}, {1, "p90"}, {2, "p99"}, {3, "p99.9"}, {4, "p99.99"}}
	for _, t := range xt {
		x := px(t.x)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, padT, x, plotH-padB)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, plotH-padB+16, t.label)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">percentile</text>`+"\n", padL+(plotW-padL-padR)/2, plotH-12)
	for e := yLo; e <= yHi; e++ {
		v := math.Pow(10, e)
		y := py(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, plotW-padR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, us(v))
	}
	fmt.Fprintf(b, `<text transform="translate(16 %d) rotate(-90)" text-anchor="middle">latency</text>`+"\n", padT+(plotH-padT-padB)/2)
}
