package search

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/events"
	"github.com/dockyard/dockyard/internal/spl"
)

func TestDoneCriterionStreamstatsMod(t *testing.T) {
	res, err := Collect(context.Background(), "| makeresults count=10 | streamstats count as i | eval s = i % 3 | stats count by s", &Env{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.Rows {
		got[r.Get("s").String()] = r.Get("count").String()
	}
	want := map[string]string{"0": "3", "1": "4", "2": "3"}
	if len(got) != 3 || got["0"] != want["0"] || got["1"] != want["1"] || got["2"] != want["2"] {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRowLimit(t *testing.T) {
	env := &Env{Limits: Limits{MaxRows: 5}}
	_, err := Collect(context.Background(), "| makeresults count=6", env)
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "search.max_rows") {
		t.Fatalf("makeresults over the limit: got %v", err)
	}
	// A generating command that streams past the limit is stopped too.
	env = &Env{Limits: Limits{MaxRows: 3}, Lookups: loadLookups(t), App: "search"}
	_, err = Collect(context.Background(), "| inputlookup x.csv", env)
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "inputlookup produced more than 3 rows") {
		t.Fatalf("inputlookup over the limit: got %v", err)
	}
	if _, err := Collect(context.Background(), "| inputlookup x.csv | head 3", env); err != nil {
		t.Fatalf("head within the limit: %v", err)
	}
}

// slowEvents yields events forever until ctx ends.
type slowEvents struct{}

func (slowEvents) Events(ctx context.Context, q events.Query) iter.Seq2[events.Event, error] {
	return func(yield func(events.Event, error) bool) {
		for {
			if err := ctx.Err(); err != nil {
				yield(events.Event{}, err)
				return
			}
			time.Sleep(time.Millisecond)
			if !yield(events.Event{Index: "main", Raw: "x"}, nil) {
				return
			}
		}
	}
}

func TestTimeLimitNamesTheLimit(t *testing.T) {
	env := &Env{Limits: Limits{MaxTime: 50 * time.Millisecond}, Events: slowEvents{}}
	_, err := Collect(context.Background(), "index=main | stats count", env)
	if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "search.max_time") {
		t.Fatalf("got %v", err)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := Collect(ctx, "index=main | stats count", &Env{Events: slowEvents{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestHeadStopsUpstream(t *testing.T) {
	n := 0
	counting := func(yield func(*Row, error) bool) {
		for {
			n++
			r := NewRow(1)
			r.Set("i", NumValue(float64(n)))
			if !yield(r, nil) {
				return
			}
		}
	}
	it, err := head{n: 3}.Run(context.Background(), counting, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for range it {
		rows++
	}
	if rows != 3 || n != 3 {
		t.Fatalf("head 3 read %d rows upstream and gave %d", n, rows)
	}
}

func TestIndexQueryFromSearch(t *testing.T) {
	ev := testEvents()
	env := &Env{Events: ev, Now: func() time.Time { return testNow }}
	_, err := Collect(context.Background(), `index=main "failed login" fail* NOT bob (x OR y) earliest=-24h latest=now | head 1`, env)
	if err != nil {
		t.Fatal(err)
	}
	q := ev.queries[0]
	if strings.Join(q.Indexes, ",") != "main" || strings.Join(q.Terms, "|") != "failed login" ||
		!q.Earliest.Equal(testNow.Add(-24*time.Hour)) || !q.Latest.Equal(testNow) || !q.Reverse {
		t.Fatalf("query %+v", q)
	}
}

func TestNoEventsInterface(t *testing.T) {
	_, err := Collect(context.Background(), "index=main x", &Env{})
	if err == nil || !strings.Contains(err.Error(), "event indexes are not available") {
		t.Fatalf("got %v", err)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 15, 13, 45, 30, 0, time.UTC) // a Sunday
	for _, tc := range []struct{ in, want string }{
		{"now", "2026-03-15T13:45:30Z"},
		{"-24h", "2026-03-14T13:45:30Z"},
		{"-7d", "2026-03-08T13:45:30Z"},
		{"-30m", "2026-03-15T13:15:30Z"},
		{"-1d@d", "2026-03-14T00:00:00Z"},
		{"@h", "2026-03-15T13:00:00Z"},
		{"-1mon@mon", "2026-02-01T00:00:00Z"},
		{"@w", "2026-03-15T00:00:00Z"},
		{"+1h", "2026-03-15T14:45:30Z"},
		{"1700000000", "2023-11-14T22:13:20Z"},
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-01-02", "2024-01-02T00:00:00Z"},
		{"01/02/2024:03:04:05", "2024-01-02T03:04:05Z"},
	} {
		got, err := ParseTime(tc.in, now)
		if err != nil || got.UTC().Format(time.RFC3339) != tc.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-3q", "-1d@q"} {
		if _, err := ParseTime(bad, now); !errdefs.IsInvalid(err) {
			t.Errorf("ParseTime(%q): got %v, want invalid", bad, err)
		}
	}
}

func TestCompareValues(t *testing.T) {
	for _, tc := range []struct {
		a, b Value
		want int
	}{
		{StrValue("10"), NumValue(9), 1},
		{StrValue("abc"), NumValue(9), 1},
		{NullValue, StrValue(""), -1},
		{StrValue("a"), StrValue("b"), -1},
		{NumValue(2), StrValue("2.0"), 0},
	} {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRenameWild(t *testing.T) {
	for _, tc := range []struct{ from, to, name, want string }{
		{"sepal_*", "s_*", "sepal_width", "s_width"},
		{"*_x_*", "*-*", "a_x_b", "a-b"},
		{"a*", "b*", "xyz", ""},
	} {
		got, _ := renameWild(tc.from, tc.to, tc.name)
		if got != tc.want {
			t.Errorf("renameWild(%q,%q,%q) = %q, want %q", tc.from, tc.to, tc.name, got, tc.want)
		}
	}
}

// fakeML records the commands it is handed, to show that the model
// commands reach the ML interface with the parsed AST and the input rows.
type fakeML struct{ fit *spl.Fit }

func (f *fakeML) Fit(_ context.Context, c *spl.Fit, in RowIter, _ *Env) (RowIter, error) {
	f.fit = c
	return streamFn(in, func(r *Row) (*Row, bool) {
		r.Set("predicted_"+c.Target(), StrValue("p"))
		return r, true
	}), nil
}
func (f *fakeML) Apply(context.Context, *spl.Apply, RowIter, *Env) (RowIter, error) {
	return Empty, nil
}
func (f *fakeML) Summary(context.Context, *spl.Summary, RowIter, *Env) (RowIter, error) {
	return Empty, nil
}
func (f *fakeML) ListModels(context.Context, *spl.Listmodels, RowIter, *Env) (RowIter, error) {
	r := NewRow(1)
	r.Set("name", StrValue("IrisModel"))
	return FromRows([]*Row{r}), nil
}
func (f *fakeML) DeleteModel(context.Context, *spl.Deletemodel, RowIter, *Env) (RowIter, error) {
	return Empty, nil
}

func TestMLCommandsReachTheInterface(t *testing.T) {
	ml := &fakeML{}
	env := testEnv(t)
	env.ML = ml
	res, err := Collect(context.Background(), "| inputlookup iris.csv | fit MLTKContainer algo=linear_regression epochs=10 petal_width from sepal_length sepal_width into app:IrisModel | head 2", env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0].Get("predicted_petal_width").String() != "p" {
		t.Fatalf("rows %v", res.Rows)
	}
	if ml.fit.Algo != "linear_regression" || !ml.fit.Into.App || ml.fit.Into.Name != "IrisModel" {
		t.Fatalf("fit %+v", ml.fit)
	}
	res, err = Collect(context.Background(), "| listmodels", env)
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("listmodels: %v %v", res, err)
	}
}
