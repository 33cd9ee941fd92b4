package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// outputFormats are the values of -o: the same everywhere.
var outputFormats = []string{"table", "json", "yaml", "csv"}

// checkOutput rejects an -o that is not a format before a command runs. -o
// once named the file of some commands: their error says to use --file.
func checkOutput(cmd *cobra.Command, g *globals) error {
	if g.output == "" || slices.Contains(outputFormats, g.output) {
		return nil
	}
	if cmd.Flags().Lookup("file") != nil {
		return usagef("-o is the output format (%s), not a file: write the file with --file %s",
			strings.Join(outputFormats, ", "), g.output)
	}
	return usagef("output format %q is not one of %s", g.output, strings.Join(outputFormats, ", "))
}

// structured reports whether -o asks for the answer's object (JSON or YAML)
// rather than text.
func (g *globals) structured() bool { return g.output == "json" || g.output == "yaml" }

// table is the human (and CSV) rendering of a command's answer.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// print writes v as JSON or YAML with -o json or yaml, else t as a table or
// CSV.
func (env *Env) print(g *globals, v any, t *table) error {
	switch g.output {
	case "json":
		return writeJSON(env.Stdout, v)
	case "yaml":
		return writeYAML(env.Stdout, v)
	case "csv":
		w := csv.NewWriter(env.Stdout)
		w.Write(t.header)
		w.WriteAll(t.rows)
		return w.Error()
	case "table", "":
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.header, "\t")))
		for _, r := range t.rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	}
	return usagef("output format %q is not one of %s", g.output, strings.Join(outputFormats, ", "))
}

// say prints v with -o json or yaml, else the sentence format makes of args.
func (env *Env) say(g *globals, v any, format string, args ...any) error {
	if g.structured() {
		return env.print(g, v, nil)
	}
	_, err := fmt.Fprintf(env.Stdout, format+"\n", args...)
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeYAML writes v as YAML with the field names and order of its JSON:
// the JSON is parsed as YAML (of which it is a subset) and re-styled.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("yaml output: %w", err)
	}
	var plain func(*yaml.Node)
	plain = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			plain(c)
		}
	}
	plain(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

func joinList(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmtTime(*t)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
