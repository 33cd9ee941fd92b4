package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/wire"
)

// plot is one server-rendered SVG chart: a metric over versions, or a
// search's series.
type plot struct {
	Title string
	SVG   template.HTML
}

// point is one value of a series at x (a version, a time, or a category's
// index).
type point struct {
	X, Y  float64
	Label string // x's text
}

type series struct {
	Name   string
	Points []point
}

// numericLeaves flattens v's numeric values (nested maps get dotted keys).
func numericLeaves(prefix string, v any, out map[string]float64) {
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[prefix] = x
		}
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			out[prefix] = f
		}
	case map[string]any:
		for k, e := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			numericLeaves(key, e, out)
		}
	}
}

// metricPlots draws one chart per numeric metric the versions reported in
// their fit info, the metric over version numbers.
func metricPlots(vs []wire.ModelVersion) []plot {
	bym := map[string][]point{}
	for _, v := range vs {
		m := map[string]float64{}
		numericLeaves("", map[string]any(v.FitInfo), m)
		for k, y := range m {
			bym[k] = append(bym[k], point{X: float64(v.Version), Y: y, Label: "v" + strconv.Itoa(v.Version)})
		}
	}
	names := make([]string, 0, len(bym))
	for k := range bym {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []plot
	for _, k := range names {
		pts := bym[k]
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		out = append(out, plot{Title: k, SVG: lineChart(k, []series{{Name: k, Points: pts}})})
	}
	return out
}

const (
	chartW, chartH = 480, 200
	padL, padR     = 56, 12
	padT, padB     = 12, 36
)

var palette = []string{"#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bc4c00"}

func esc(s string) string { return template.HTMLEscapeString(s) }

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

// bounds returns the range of the series' x and y, widened when flat.
func bounds(ss []series) (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.Points {
			x0, x1 = math.Min(x0, p.X), math.Max(x1, p.X)
			y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
		}
	}
	if x0 == x1 {
		x0, x1 = x0-1, x1+1
	}
	if y0 == y1 {
		y0, y1 = y0-1, y1+1
	}
	return
}

// lineChart draws series as lines with a dot per point, axes labelled with
// the range and the first and last x labels. The text in it is escaped.
func lineChart(title string, ss []series) template.HTML {
	if len(ss) == 0 {
		return ""
	}
	x0, x1, y0, y1 := bounds(ss)
	sx := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*(chartW-padL-padR) }
	sy := func(y float64) float64 { return chartH - padB - (y-y0)/(y1-y0)*(chartH-padT-padB) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, chartW, chartH, esc(title))
	axes(&b, fmtNum(y0), fmtNum(y1))
	for i, s := range ss {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(p.X), sy(p.Y)))
		}
		fmt.Fprintf(&b, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, esc(s.Name), color, strings.Join(pts, " "))
		for _, p := range s.Points {
			fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s</title></circle>`,
				sx(p.X), sy(p.Y), color, esc(p.Label), esc(fmtNum(p.Y)))
		}
	}
	if first, last := firstLast(ss); first != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">%s</text>`, padL, chartH-padB+16, esc(first))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end">%s</text>`, chartW-padR, chartH-padB+16, esc(last))
	}
	legend(&b, ss)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func firstLast(ss []series) (string, string) {
	var first, last point
	for i, s := range ss {
		for j, p := range s.Points {
			if (i == 0 && j == 0) || p.X < first.X {
				first = p
			}
			if (i == 0 && j == 0) || p.X > last.X {
				last = p
			}
		}
	}
	return first.Label, last.Label
}

func axes(b *strings.Builder, ylo, yhi string) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, padL, padT, padL, chartH-padB)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" text-anchor="end">%s</text>`, padL-4, chartH-padB, esc(ylo))
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" text-anchor="end">%s</text>`, padL-4, padT+10, esc(yhi))
}

func legend(b *strings.Builder, ss []series) {
	if len(ss) < 2 {
		return
	}
	for i, s := range ss {
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" fill="%s">%s</text>`, padL+8+i*90, chartH-4, palette[i%len(palette)], esc(s.Name))
	}
}

// barChart draws bars per category (stats ... by, chart ... over): the
// categories are the points' X (0, 1, ...) with their labels; several
// series stand side by side in each category, with a legend.
func barChart(title string, ss ...series) template.HTML {
	n := 0
	y0, y1 := 0.0, 0.0
	for _, s := range ss {
		for _, p := range s.Points {
			n = max(n, int(p.X)+1)
			y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
		}
	}
	if n == 0 {
		return ""
	}
	if y0 == y1 {
		y1 = y0 + 1
	}
	sy := func(y float64) float64 { return chartH - padB - (y-y0)/(y1-y0)*(chartH-padT-padB) }
	bw := float64(chartW-padL-padR) / float64(n)
	sw := bw * 0.8 / float64(len(ss))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, chartW, chartH, esc(title))
	axes(&b, fmtNum(y0), fmtNum(y1))
	labels := map[int]string{}
	for k, s := range ss {
		for _, p := range s.Points {
			x := padL + p.X*bw + bw*0.1 + float64(k)*sw
			top, bottom := sy(math.Max(p.Y, 0)), sy(math.Min(p.Y, 0))
			name := p.Label
			if len(ss) > 1 {
				name += " / " + s.Name
			}
			fmt.Fprintf(&b, `<rect class="bar" data-series="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`,
				esc(s.Name), x, top, sw, bottom-top, palette[k%len(palette)], esc(name), esc(fmtNum(p.Y)))
			labels[int(p.X)] = p.Label
		}
	}
	if n <= 20 {
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, padL+float64(i)*bw+bw/2, chartH-padB+14, esc(short(labels[i])))
		}
	}
	legend(&b, ss)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func short(s string) string {
	if len([]rune(s)) > 10 {
		return string([]rune(s)[:9]) + "…"
	}
	return s
}
