package search

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestMemoryLimit: every command that keeps rows or values stops the
// search with a limit error naming search.max_memory once it holds more
// than the limit, instead of growing without bound.
func TestMemoryLimit(t *testing.T) {
	searches := map[string]string{
		"sort":         `| makeresults count=100000 | eval s = "row " . random() | sort s`,
		"stats values": `| makeresults count=100000 | streamstats count as i | stats values(i)`,
		"stats groups": `| makeresults count=100000 | streamstats count as i | stats count by i`,
		"eventstats":   `| makeresults count=100000 | streamstats count as i | eventstats max(i)`,
		"timechart":    `| makeresults count=100000 | streamstats count as i | eval _time = i | timechart span=1s count`,
		"dedup":        `| makeresults count=100000 | streamstats count as i | dedup i`,
		"tail":         `| makeresults count=100000 | eval s = "some text" | tail 100000`,
		"append":       `| makeresults | append [| makeresults count=100000]`,
		"fillnull":     `| makeresults count=100000 | fillnull`,
		"eval strings": `| makeresults count=1000 | eval s = printf("%0999d", 1) | sort s`,
	}
	for name, src := range searches {
		t.Run(name, func(t *testing.T) {
			env := testEnv(t)
			env.Limits.MaxMemory = 1 << 20
			_, err := Collect(context.Background(), src, env)
			if !errdefs.IsLimit(err) || !strings.Contains(err.Error(), "search.max_memory") || !strings.Contains(err.Error(), "1 MiB") {
				t.Fatalf("got %v, want a limit error naming search.max_memory", err)
			}
		})
	}
}

// TestStreamingCommandsStream: the streaming commands pass rows on as they
// come, so head stops a search of a billion rows at once, within a memory
// limit that buffering even a small part of it would pass.
func TestStreamingCommandsStream(t *testing.T) {
	src := `| makeresults count=1000000000 | streamstats count as i | eval s = "a,b " . i, j = "{\"k\":" . i . "}" | rex field=s "(?<w>\w+)$" | makemv delim="," s | mvexpand s | fillnull value=0 z | convert num(i) | bin i span=10 as ib | lookup users uid as i OUTPUT name | foreach i* [eval <<FIELD>>_x = 1] | where isnotnull(s) | sample ratio=1 | sample partitions=2 | append [| makeresults] | head 5`
	env := testEnv(t)
	env.Limits.MaxMemory = 1 << 20
	res, err := Collect(context.Background(), src, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 5 {
		t.Fatalf("got %d rows, want 5", len(res.Rows))
	}
}

// TestSubsearchLimits: a subsearch keeps at most search.subsearch_max_rows
// rows and runs at most search.subsearch_max_time; past either the rows so
// far are used and a message names the setting.
func TestSubsearchLimits(t *testing.T) {
	env := testEnv(t)
	env.Limits.SubsearchMaxRows = 3
	res, err := Collect(context.Background(), `| makeresults | append [| makeresults count=10] | stats count`, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Get("count").String(); got != "4" {
		t.Errorf("count = %s, want 4 (1 + the subsearch's first 3)", got)
	}
	if len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "search.subsearch_max_rows") {
		t.Errorf("messages = %q, want one naming search.subsearch_max_rows", res.Messages)
	}

	env = testEnv(t)
	env.Limits.SubsearchMaxTime = time.Millisecond
	res, err = Collect(context.Background(), `| makeresults | join type=left x [| makeresults count=1000000000 | eval x = 1]`, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || len(res.Messages) != 1 || !strings.Contains(res.Messages[0], "search.subsearch_max_time") {
		t.Errorf("rows = %d, messages = %q, want 1 row and a message naming search.subsearch_max_time", len(res.Rows), res.Messages)
	}
}
