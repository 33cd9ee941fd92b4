package spl

import (
	"fmt"
	"strings"
)

// Dump prints the tree of a pipeline, one node per line with its position,
// for golden tests and debugging.
func Dump(pl *Pipeline) string {
	var b strings.Builder
	for _, c := range pl.Commands {
		dumpNode(&b, 0, c)
	}
	return b.String()
}

func line(b *strings.Builder, depth int, pos Pos, format string, args ...any) {
	fmt.Fprintf(b, "%s%d:%d %s\n", strings.Repeat("  ", depth), pos.Line, pos.Col, fmt.Sprintf(format, args...))
}

func dumpNode(b *strings.Builder, d int, n any) {
	switch n := n.(type) {
	case *Search:
		line(b, d, n.Pos, "Search implicit=%v", n.Implicit)
		if n.Expr != nil {
			dumpNode(b, d+1, n.Expr)
		}
	case *SearchAnd:
		line(b, d, n.Pos, "And")
		for _, t := range n.Terms {
			dumpNode(b, d+1, t)
		}
	case *SearchOr:
		line(b, d, n.Pos, "Or")
		for _, t := range n.Terms {
			dumpNode(b, d+1, t)
		}
	case *SearchNot:
		line(b, d, n.Pos, "Not")
		dumpNode(b, d+1, n.X)
	case *SearchGroup:
		line(b, d, n.Pos, "Group")
		dumpNode(b, d+1, n.X)
	case *SearchSub:
		dumpSub(b, d, n.Sub.Pos, n.Sub.Pipeline)
	case *Term:
		line(b, d, n.Pos, "Term %q quoted=%v", n.Text, n.Quoted)
	case *Compare:
		line(b, d, n.Pos, "Compare %q %s %q quoted=%v", n.Field, n.Op, n.Value, n.Quoted)
	case *Eval:
		line(b, d, n.Pos, "Eval")
		for _, a := range n.Assigns {
			line(b, d+1, a.Pos, "Assign %q", a.Field)
			dumpNode(b, d+2, a.Expr)
		}
	case *Where:
		line(b, d, n.Pos, "Where")
		dumpNode(b, d+1, n.Expr)
	case *Number:
		line(b, d, n.Pos, "Number %s", n.Text)
	case *String:
		line(b, d, n.Pos, "String %q", n.Value)
	case *FieldRef:
		line(b, d, n.Pos, "Field %q", n.Name)
	case *Unary:
		line(b, d, n.Pos, "Unary %s", n.Op)
		dumpNode(b, d+1, n.X)
	case *Binary:
		line(b, d, n.Pos, "Binary %s", n.Op)
		dumpNode(b, d+1, n.L)
		dumpNode(b, d+1, n.R)
	case *Call:
		line(b, d, n.Pos, "Call %s", n.Func)
		for _, a := range n.Args {
			dumpNode(b, d+1, a)
		}
	case *Stats:
		line(b, d, n.Pos, "%s by=%q", titleName(n.Name()), n.By)
		for _, a := range n.Aggs {
			line(b, d+1, a.Pos, "Agg %s field=%q as=%q", a.Func, a.Field, a.As)
		}
	case *Fit:
		line(b, d, n.Pos, "Fit algorithm=%q algo=%q container=%q targets=%q from=%v features=%q into=%s as=%q",
			n.Algorithm, n.Algo, n.Container, n.Targets, n.From, n.Features, n.Into, n.As)
		for _, o := range n.Params {
			line(b, d+1, o.Pos, "Param %q=%q", o.Key, o.Value)
		}
	case *Chart:
		line(b, d, n.Pos, "Chart options=%v over=%q by=%q", n.Options, n.Over, n.By)
		for _, a := range n.Aggs {
			line(b, d+1, a.Pos, "Agg %s field=%q as=%q", a.Func, a.Field, a.As)
		}
	case *Timechart:
		line(b, d, n.Pos, "Timechart options=%v by=%q", n.Options, n.By)
		for _, a := range n.Aggs {
			line(b, d+1, a.Pos, "Agg %s field=%q as=%q", a.Func, a.Field, a.As)
		}
	case *Convert:
		line(b, d, n.Pos, "Convert options=%v", n.Options)
		for _, cv := range n.Conversions {
			line(b, d+1, cv.Pos, "Conversion %s field=%q as=%q", cv.Func, cv.Field, cv.As)
		}
	case *Inputlookup:
		line(b, d, n.Pos, "Inputlookup lookup=%q", n.Lookup)
		if n.Where != nil {
			dumpNode(b, d+1, n.Where)
		}
	case *Append:
		line(b, d, n.Pos, "%s options=%v", titleName(n.Name()), n.Options)
		dumpSub(b, d+1, n.Sub.Pos, n.Sub.Pipeline)
	case *Join:
		line(b, d, n.Pos, "Join options=%v fields=%q", n.Options, n.Fields)
		dumpSub(b, d+1, n.Sub.Pos, n.Sub.Pipeline)
	case *Foreach:
		line(b, d, n.Pos, "Foreach options=%v fields=%q body=%q", n.Options, n.Fields, n.Body)
		dumpSub(b, d+1, n.BodyPos, n.Sub)
	case Command:
		line(b, d, n.Position(), "%s %+v", titleName(n.Name()), fieldsOf(n))
	default:
		fmt.Fprintf(b, "%s?%T\n", strings.Repeat("  ", d), n)
	}
}

func dumpSub(b *strings.Builder, d int, pos Pos, pl *Pipeline) {
	line(b, d, pos, "Subsearch")
	for _, c := range pl.Commands {
		dumpNode(b, d+1, c)
	}
}

func titleName(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// fieldsOf prints a simple command's fields without its position.
func fieldsOf(c Command) string {
	switch c := c.(type) {
	case *Makeresults:
		return fmt.Sprintf("count=%d set=%v", c.Count, c.CountSet)
	case *Outputlookup:
		return fmt.Sprintf("lookup=%q", c.Lookup)
	case *Table:
		return fmt.Sprintf("fields=%q", c.Fields)
	case *Fields:
		return fmt.Sprintf("remove=%v fields=%q", c.Remove, c.Fields)
	case *Rename:
		return fmt.Sprintf("pairs=%q", c.Pairs)
	case *Head:
		return fmt.Sprintf("n=%d set=%v", c.N, c.NSet)
	case *Sort:
		return fmt.Sprintf("limit=%d keys=%+v", c.Limit, c.Keys)
	case *Dedup:
		return fmt.Sprintf("n=%d fields=%q keepempty=%v consecutive=%v", c.N, c.Fields, c.KeepEmpty, c.Consecutive)
	case *Apply:
		if c.Container != "" {
			return fmt.Sprintf("model=%s container=%q as=%q params=%v", c.Model, c.Container, c.As, c.Params)
		}
		return fmt.Sprintf("model=%s as=%q params=%v", c.Model, c.As, c.Params)
	case *Summary:
		if c.Container != "" {
			return fmt.Sprintf("model=%s container=%q", c.Model, c.Container)
		}
		return fmt.Sprintf("model=%s", c.Model)
	case *Deletemodel:
		return fmt.Sprintf("model=%s", c.Model)
	case *Bin:
		return fmt.Sprintf("options=%v field=%q as=%q", c.Options, c.Field, c.As)
	case *Fillnull:
		return fmt.Sprintf("options=%v fields=%q", c.Options, c.Fields)
	case *Makemv:
		return fmt.Sprintf("options=%v field=%q", c.Options, c.Field)
	case *Spath:
		return fmt.Sprintf("options=%v path=%q", c.Options, c.Path)
	case *Mvexpand:
		return fmt.Sprintf("options=%v field=%q", c.Options, c.Field)
	case *Rex:
		return fmt.Sprintf("options=%v regex=%q", c.Options, c.Regex)
	case *Top:
		return fmt.Sprintf("options=%v fields=%q by=%q", c.Options, c.Fields, c.By)
	case *Sample:
		return fmt.Sprintf("options=%v", c.Options)
	case *Lookup:
		return fmt.Sprintf("table=%q inputs=%q output=%q outputs=%q", c.Table, c.Inputs, c.Output, c.Outputs)
	}
	return ""
}
