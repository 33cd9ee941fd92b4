package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestSearchPageStreamsRowsChartsAndMarksErrors: the search page shows a
// search's rows in a table, draws a chart for `stats ... by` and `chart
// ... over` (bars) and timechart (lines), and marks where a syntax error is
// in the query.
func TestSearchPageStreamsRowsChartsAndMarksErrors(t *testing.T) {
	h := servertest.Start(t)
	c := h.User("sam", access.RoleUser, access.RolePower)
	if _, err := c.UploadLookup(context.Background(), "pets.csv", strings.NewReader("kind,weight\ncat,4\ndog,20\ncat,5\nbird,1\n")); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, h)
	b.login("sam", servertest.UserPassword)
	_, tok := b.page("/search")
	search := func(q string) (*http.Response, string) {
		return b.do("POST", "/search", url.Values{"csrf": {tok}, "q": {q}}, nil)
	}

	resp, body := search("| inputlookup pets.csv | stats count by kind")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stats by: %d %s", resp.StatusCode, body)
	}
	if n := strings.Count(body, `<tr class="result">`); n != 3 {
		t.Errorf("stats by: %d result rows, want 3", n)
	}
	if !strings.Contains(body, `id="search-chart"`) || strings.Count(body, `<rect class="bar"`) != 3 {
		t.Errorf("stats by: want a chart with 3 bars:\n%s", body)
	}

	resp, body = search("| inputlookup pets.csv | chart avg(weight) over kind")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="search-chart"`) || strings.Count(body, `<rect class="bar"`) != 3 {
		t.Errorf("chart over: %d, want a chart with 3 bars:\n%s", resp.StatusCode, body)
	}

	resp, body = search(`| inputlookup pets.csv | eval heavy = if(weight > 4, "yes", "no") | chart count over kind by heavy`)
	if resp.StatusCode != http.StatusOK || strings.Count(body, `<rect class="bar" data-series="no"`) != 3 || strings.Count(body, `<rect class="bar" data-series="yes"`) != 3 {
		t.Errorf("chart over by: %d, want 3 bars of each of two series:\n%s", resp.StatusCode, body)
	}

	resp, body = search("| inputlookup pets.csv | eval _time=1700000000+weight*3600 | timechart span=1h count")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("timechart: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `id="search-chart"`) || !strings.Contains(body, `<polyline class="series" data-series="count"`) {
		t.Errorf("timechart: want a line chart of count:\n%s", body)
	}

	resp, body = search("| inputlookup pets.csv | head 2")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="search-chart"`) {
		t.Errorf("a plain search: %d, and no chart expected:\n%s", resp.StatusCode, body)
	}

	resp, body = search("| inputlookup pets.csv\n| stats count by")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("syntax error: %d, want 400:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `id="error-position"`) || !strings.Contains(body, "At line 2, column") || !strings.Contains(body, `<mark class="caret">`) {
		t.Errorf("syntax error: the position is not marked:\n%s", body)
	}
}
