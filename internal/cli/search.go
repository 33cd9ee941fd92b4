package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/wire"
)

func init() { extraCommands = append(extraCommands, newSearchCmd) }

func newSearchCmd(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "search [--app APP] 'SPL' [-o table|json|yaml|csv]",
		Short: "Run a search and print its results",
		Long: `Run an ML-SPL search on the server and print its results: aligned columns
(-o table, the default), CSV with a header of every field (-o csv), or
{"results": [...], "messages": [...]} (-o json, or the same as YAML with
-o yaml). Messages go to stderr in
table and csv output. On a terminal a long search shows its progress on
stderr. See docs/search.md for the language.`,
		Example: `  dockyard search '| makeresults count=10 | streamstats count as i | eval s = i % 3 | stats count by s'
  dockyard search -o csv '| inputlookup x.csv | where a > 2'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("search needs the search to run, quoted as one argument: dockyard search '| makeresults count=3'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client(g)
			if err != nil {
				return err
			}
			prog := &progressLine{w: env.Stderr, on: isTerminal(env.Stderr), start: time.Now()}
			rows := []wire.Row{}
			done, err := c.Search(cmd.Context(), strings.Join(args, " "), "", client.SearchHandler{
				Row: func(r wire.Row) error {
					rows = append(rows, r)
					prog.show(len(rows))
					return nil
				},
				Progress: func(p wire.SearchProgress) { prog.show(p.Rows) },
			})
			prog.clear()
			if err != nil {
				return err
			}
			msgs := done.Messages
			if msgs == nil {
				msgs = []string{}
			}
			if g.structured() {
				return env.print(g, wire.SearchResults{Results: rows, Messages: msgs}, nil)
			}
			for _, m := range msgs {
				fmt.Fprintln(env.Stderr, m)
			}
			if g.output == "csv" {
				return writeRowsCSV(env.Stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(env.Stderr, "No results.")
				return nil
			}
			return writeRowsTable(env.Stdout, rows)
		},
	}
}

// rowFields is the union of the rows' fields in first-seen order.
func rowFields(rows []wire.Row) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, f := range r {
			if !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// writeRowsCSV writes a header of every field and one record per row;
// a missing field is an empty cell.
func writeRowsCSV(w io.Writer, rows []wire.Row) error {
	fields := rowFields(rows)
	cw := csv.NewWriter(w)
	if len(fields) > 0 {
		cw.Write(fields)
	}
	rec := make([]string, len(fields))
	for _, r := range rows {
		for i, f := range fields {
			rec[i], _ = r.Get(f)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// writeRowsTable writes aligned columns headed by the field names.
func writeRowsTable(w io.Writer, rows []wire.Row) error {
	fields := rowFields(rows)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(fields, "\t"))
	cells := make([]string, len(fields))
	for _, r := range rows {
		for i, f := range fields {
			v, _ := r.Get(f)
			cells[i] = cellText(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cellText keeps a table cell on one line: multivalues are joined by
// commas, tabs become spaces.
func cellText(v string) string {
	if !strings.ContainsAny(v, "\n\t\r") {
		return v
	}
	return strings.NewReplacer("\r\n", ",", "\n", ",", "\r", ",", "\t", " ").Replace(v)
}

// progressLine shows "N rows, Ts" on a terminal while a search runs longer
// than a second, redrawing it at most every 100 ms.
type progressLine struct {
	w      io.Writer
	on     bool
	start  time.Time
	last   time.Time
	rows   int
	shown  bool
	width  int
	nowFor func() time.Time // tests
}

func (p *progressLine) now() time.Time {
	if p.nowFor != nil {
		return p.nowFor()
	}
	return time.Now()
}

func (p *progressLine) show(rows int) {
	if !p.on {
		return
	}
	p.rows = max(p.rows, rows)
	now := p.now()
	elapsed := now.Sub(p.start)
	if elapsed < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	s := fmt.Sprintf("%d rows, %ds", p.rows, int(elapsed.Seconds()))
	pad := ""
	if n := p.width - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(s)
	fmt.Fprint(p.w, "\r"+s+pad)
	p.shown = true
}

// clear erases the line before results or an error are printed.
func (p *progressLine) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
		p.shown = false
	}
}
