package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/spl"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) searchRoutes() []api.Route {
	return []api.Route{
		page("GET", "/search", access.CapSearch, "search", c.searchForm),
		page("POST", "/search", access.CapSearch, "search", c.search),
	}
}

// resultsMarker is where the streamed results go in the rendered page.
const resultsMarker = `<div id="results-here"></div>`

// maxChartRows bounds the rows a chart is drawn from.
const maxChartRows = 2000

type searchData struct {
	Query string
	Error *searchError
}

// searchError is a failed search: its message and, for a syntax error,
// the query's text split at the position it names.
type searchError struct {
	Message           string
	Line, Column      int
	Before, At, After string
	HasPos            bool
}

func (c *Console) searchForm(w http.ResponseWriter, r *http.Request) error {
	return c.render(w, r, http.StatusOK, "search", "Search", searchData{Query: r.URL.Query().Get("q")})
}

// search runs the query through the API's search route and streams its
// rows into the page's table as they come (the page is sent in pieces:
// no script is needed to see results arrive). A timechart or a
// `stats ... by` gets a chart after the table.
func (c *Console) search(w http.ResponseWriter, r *http.Request) error {
	q := r.PostFormValue("q")
	sw := &searchWriter{w: w, c: c, r: r, q: q}
	err := c.api.Invoke(sw, r, "POST", "/v1/search", nil, nil, wire.SearchRequest{Search: q})
	if err != nil && !sw.begun {
		status, _ := errhttp.Status(err)
		if status >= 500 {
			return err
		}
		return c.render(w, r, status, "search", "Search", searchData{Query: q, Error: describeSearchError(q, err.Error(), posOf(err))})
	}
	sw.end()
	return nil
}

func posOf(err error) spl.Pos {
	var pe *spl.ParseError
	if errors.As(err, &pe) {
		return pe.Pos
	}
	return spl.Pos{}
}

// describeSearchError marks the position pos (1-based line and column;
// zero when unknown) in q.
func describeSearchError(q, msg string, pos spl.Pos) *searchError {
	e := &searchError{Message: msg, Line: pos.Line, Column: pos.Col}
	if pos.Line < 1 || pos.Col < 1 {
		return e
	}
	lines := strings.Split(q, "\n")
	if pos.Line > len(lines) {
		return e
	}
	off := 0
	for _, l := range lines[:pos.Line-1] {
		off += len(l) + 1
	}
	line := []rune(lines[pos.Line-1])
	col := min(pos.Col-1, len(line))
	off += len(string(line[:col]))
	e.HasPos = true
	e.Before = q[:off]
	if off < len(q) {
		_, n := firstRune(q[off:])
		e.At, e.After = q[off:off+n], q[off+n:]
	} else {
		e.At = " "
	}
	return e
}

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// searchWriter turns the API's NDJSON frames into HTML as they arrive.
type searchWriter struct {
	w      http.ResponseWriter
	c      *Console
	r      *http.Request
	q      string
	header http.Header
	buf    bytes.Buffer
	begun  bool
	tail   string // the page after the results
	cols   []string
	rows   []wire.Row // kept for the chart
	n      int
	done   *wire.SearchDone
	err    *wire.SearchError
}

func (s *searchWriter) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}

func (s *searchWriter) WriteHeader(int) {}

func (s *searchWriter) Flush() {
	if f, ok := s.w.(http.Flusher); ok && s.begun {
		f.Flush()
	}
}

func (s *searchWriter) Write(b []byte) (int, error) {
	s.buf.Write(b)
	for {
		i := bytes.IndexByte(s.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		line := s.buf.Next(i + 1)
		var f wire.SearchFrame
		if err := json.Unmarshal(line, &f); err != nil {
			return 0, fmt.Errorf("search frame: %w", err)
		}
		if err := s.frame(f); err != nil {
			return 0, err
		}
	}
}

// begin sends the page up to the results.
func (s *searchWriter) begin() error {
	if s.begun {
		return nil
	}
	s.begun = true
	var b strings.Builder
	rw := &stringWriter{h: http.Header{}, b: &b}
	if err := s.c.render(rw, s.r, http.StatusOK, "search", "Search", searchData{Query: s.q}); err != nil {
		return err
	}
	head, tail, _ := strings.Cut(b.String(), resultsMarker)
	s.tail = tail
	for k, v := range rw.h {
		s.w.Header()[k] = v
	}
	s.w.WriteHeader(http.StatusOK)
	_, err := s.w.Write([]byte(head + `<section aria-labelledby="h-results"><h2 id="h-results">Results</h2><table id="results">`))
	return err
}

func (s *searchWriter) frame(f wire.SearchFrame) error {
	if err := s.begin(); err != nil {
		return err
	}
	var b strings.Builder
	switch {
	case f.Row != nil:
		row := *f.Row
		if s.cols == nil {
			for _, fl := range row {
				s.cols = append(s.cols, fl.Name)
			}
			b.WriteString("<thead><tr>")
			for _, c := range s.cols {
				fmt.Fprintf(&b, `<th scope="col">%s</th>`, esc(c))
			}
			b.WriteString("<th scope=\"col\" class=\"muted\">other fields</th></tr></thead><tbody>")
		}
		m := row.Map()
		b.WriteString(`<tr class="result">`)
		for _, c := range s.cols {
			fmt.Fprintf(&b, "<td>%s</td>", esc(m[c]))
			delete(m, c)
		}
		b.WriteString("<td>")
		for _, fl := range row {
			if _, ok := m[fl.Name]; ok {
				fmt.Fprintf(&b, "%s=%s ", esc(fl.Name), esc(fl.Value))
			}
		}
		b.WriteString("</td></tr>\n")
		s.n++
		if len(s.rows) < maxChartRows {
			s.rows = append(s.rows, row)
		}
	case f.Done != nil:
		s.done = f.Done
	case f.Error != nil:
		s.err = f.Error
	}
	_, err := s.w.Write([]byte(b.String()))
	return err
}

// end closes the table and sends the summary, the chart and the rest of
// the page.
func (s *searchWriter) end() {
	if !s.begun {
		if err := s.begin(); err != nil {
			return
		}
	}
	var b strings.Builder
	if s.cols != nil {
		b.WriteString("</tbody>")
	}
	b.WriteString("</table>")
	switch {
	case s.err != nil:
		e := describeSearchError(s.q, s.err.Message, spl.Pos{Line: s.err.Line, Col: s.err.Column})
		b.WriteString(`<div class="error" role="alert" id="search-error"><p>` + esc(e.Message) + `</p>` + markedQuery(e) + `</div>`)
	case s.done != nil:
		fmt.Fprintf(&b, `<p id="search-done" role="status">%d rows in %s.</p>`, s.done.Rows, time.Duration(s.done.ElapsedMS)*time.Millisecond)
		for _, m := range s.done.Messages {
			fmt.Fprintf(&b, `<p class="muted search-message">%s</p>`, esc(m))
		}
		if ch := chartFor(s.q, s.done.Fields, s.rows); ch != "" {
			b.WriteString(`<figure class="plot" id="search-chart">` + string(ch) + `</figure>`)
		}
	}
	b.WriteString("</section>")
	s.w.Write([]byte(b.String() + s.tail))
}

// markedQuery shows the query with the error's position marked.
func markedQuery(e *searchError) string {
	if !e.HasPos {
		return ""
	}
	return fmt.Sprintf(`<p>At line %d, column %d:</p><pre id="error-position">%s<mark class="caret">%s</mark>%s</pre>`,
		e.Line, e.Column, esc(e.Before), esc(e.At), esc(e.After))
}

// chartFor draws the results of a query whose last command is timechart
// (a line per series over _time) or stats with a by clause (bars of the
// first aggregate per group); "" for others.
func chartFor(q string, fields []string, rows []wire.Row) template.HTML {
	pl, err := spl.Parse(q)
	if err != nil || len(pl.Commands) == 0 || len(rows) == 0 {
		return ""
	}
	switch cmd := pl.Commands[len(pl.Commands)-1].(type) {
	case *spl.Timechart:
		var ss []series
		for _, f := range fields {
			if f == "_time" || f == "_span" {
				continue
			}
			s := series{Name: f}
			for _, r := range rows {
				ts, _ := r.Get("_time")
				t, terr := time.Parse("2006-01-02T15:04:05.000Z", ts)
				v, _ := r.Get(f)
				y, yerr := strconv.ParseFloat(v, 64)
				if terr != nil || yerr != nil {
					continue
				}
				s.Points = append(s.Points, point{X: float64(t.UnixMilli()) / 1000, Y: y, Label: ts})
			}
			if len(s.Points) > 0 {
				ss = append(ss, s)
			}
		}
		return lineChart("timechart", ss)
	case *spl.Chart:
		if cmd.Over == "" {
			return ""
		}
		if cmd.By == "" {
			return barsOf(fields, rows, []string{cmd.Over}, 1, "")
		}
		// A series per column (a value of the column field).
		return barsOf(fields, rows, []string{cmd.Over}, len(palette), cmd.Over+" by "+cmd.By)
	case *spl.Stats:
		if len(cmd.By) == 0 || cmd.Streaming || cmd.Event {
			return ""
		}
		return barsOf(fields, rows, cmd.By, 1, "")
	}
	return ""
}

// barsOf draws bars of the first most fields not in by (a series each,
// those without a number left out), one bar per row, labelled by the
// row's by values; "" when there are none. title defaults to "VALUE by
// BY".
func barsOf(fields []string, rows []wire.Row, by []string, most int, title string) template.HTML {
	var ss []series
	for _, f := range fields {
		if contains(by, f) {
			continue
		}
		if most--; most < 0 {
			break
		}
		if title == "" {
			title = f + " by " + strings.Join(by, ", ")
		}
		s := series{Name: f}
		for i, r := range rows {
			v, _ := r.Get(f)
			y, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			var label []string
			for _, b := range by {
				l, _ := r.Get(b)
				label = append(label, l)
			}
			s.Points = append(s.Points, point{X: float64(i), Y: y, Label: strings.Join(label, " / ")})
		}
		if len(s.Points) > 0 {
			ss = append(ss, s)
		}
	}
	return barChart(title, ss...)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// stringWriter keeps a rendered page to be sent in pieces.
type stringWriter struct {
	h http.Header
	b *strings.Builder
}

func (s *stringWriter) Header() http.Header         { return s.h }
func (s *stringWriter) WriteHeader(int)             {}
func (s *stringWriter) Write(p []byte) (int, error) { return s.b.Write(p) }
