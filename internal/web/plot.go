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

// barChart draws one bar per category of the first series (stats ... by).
func barChart(title string, s series) template.HTML {
	if len(s.Points) == 0 {
		return ""
	}
	y0, y1 := math.Min(0, s.Points[0].Y), math.Max(0, s.Points[0].Y)
	for _, p := range s.Points {
		y0, y1 = math.Min(y0, p.Y), math.Max(y1, p.Y)
	}
	if y0 == y1 {
		y1 = y0 + 1
	}
	sy := func(y float64) float64 { return chartH - padB - (y-y0)/(y1-y0)*(chartH-padT-padB) }
	bw := float64(chartW-padL-padR) / float64(len(s.Points))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, chartW, chartH, esc(title))
	axes(&b, fmtNum(y0), fmtNum(y1))
	for i, p := range s.Points {
		x := padL + float64(i)*bw
		top, bottom := sy(math.Max(p.Y, 0)), sy(math.Min(p.Y, 0))
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`,
			x+bw*0.1, top, bw*0.8, bottom-top, palette[0], esc(p.Label), esc(fmtNum(p.Y)))
		if len(s.Points) <= 20 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, x+bw/2, chartH-padB+14, esc(short(p.Label)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func short(s string) string {
	if len([]rune(s)) > 10 {
		return string([]rune(s)[:9]) + "…"
	}
	return s
}
