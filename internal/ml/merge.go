package ml

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/search"
)

// resultNames names the result columns as docs/fit.md's results merge
// says: with N targets, the first N columns become predicted_<target_i>
// (the as name replaces the first only) and the others keep theirs;
// without one, the first column takes the as name when given and every
// other column gets the prefix predicted_.
func resultNames(header []string, targets []string, as string) []string {
	out := make([]string, len(header))
	for i, h := range header {
		switch {
		case i == 0 && as != "":
			out[i] = as
		case i < len(targets):
			out[i] = "predicted_" + targets[i]
		case len(targets) > 0:
			out[i] = h
		default:
			out[i] = "predicted_" + h
		}
	}
	return out
}

// merged pairs spooled rows with the notebook's result rows: the n-th sent
// row gets the n-th result; rows that were not sent (missing values) get
// empty predictions.
type merged struct {
	sp      *spool
	results string // CSV file of the results; "" for none
	targets []string
	as      string
	// verbatim keeps the notebook's column names (the shipped MLTK
	// algorithms name theirs as MLTK does: SS_x, PC_1, cluster,
	// predicted(y)); as still renames the first.
	verbatim bool
	// onEnd gets the counts when the rows are all out.
	onEnd func(sent, results int64)
}

func (m *merged) rows(yield func(*search.Row, error) bool) {
	var names []string
	var cr *csv.Reader
	if m.results != "" {
		f, err := os.Open(m.results)
		if err != nil {
			yield(nil, fmt.Errorf("reading the notebook's results: %w", err))
			return
		}
		defer f.Close()
		cr = csv.NewReader(f)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		header, err := cr.Read()
		switch {
		case err == io.EOF:
			cr = nil
		case err != nil:
			yield(nil, fmt.Errorf("the notebook's results are not valid CSV: %w", err))
			return
		default:
			names = resultNames(append([]string(nil), header...), m.targets, m.as)
			if m.verbatim {
				names = append([]string(nil), header...)
				if m.as != "" && len(names) > 0 {
					names[0] = m.as
				}
			}
		}
	}
	var sent, got int64
	for sr, err := range m.sp.rows {
		r, wasSent := sr.Row, sr.Sent
		if err != nil {
			yield(nil, err)
			return
		}
		var rec []string
		if wasSent {
			sent++
			if cr != nil {
				rec, err = cr.Read()
				switch {
				case err == io.EOF:
					cr, rec = nil, nil
				case err != nil:
					yield(nil, fmt.Errorf("the notebook's results are not valid CSV: %w", err))
					return
				default:
					got++
				}
			}
		}
		for i, n := range names {
			v := search.NullValue
			if i < len(rec) && rec[i] != "" {
				v = search.StrValue(rec[i])
			}
			if v.IsNull() && i > 0 {
				// Only the prediction column is always there; a stale
				// value of the same name (an earlier apply) must not pass
				// for this model's result.
				r.Delete(n)
				continue
			}
			r.Set(n, v)
		}
		if !yield(r, nil) {
			return
		}
	}
	if cr != nil {
		for {
			if _, err := cr.Read(); err != nil {
				break
			}
			got++
		}
	}
	if m.onEnd != nil {
		m.onEnd(sent, got)
	}
}

// missingMessage says which rows had missing values and what was done.
func missingMessage(op string, st feedStats, cols []string) string {
	if st.Missing == 0 {
		return ""
	}
	var parts []string
	keys := make([]string, 0, len(st.ByField))
	for k := range st.ByField {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return indexOf(cols, keys[i]) < indexOf(cols, keys[j])
	})
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, st.ByField[k]))
	}
	nums := make([]string, len(st.MissingRows))
	for i, n := range st.MissingRows {
		nums[i] = fmt.Sprint(n)
	}
	rows := strings.Join(nums, ", ")
	if st.Missing > int64(len(st.MissingRows)) {
		rows += ", ..."
	}
	what := "they were not sent to the notebook and are passed through with empty predictions"
	if op == "fit" {
		what = "they were left out of the training data and are passed through with empty predictions"
	}
	return fmt.Sprintf("%s: %d of %d rows had missing values (%s; rows %s): %s",
		op, st.Missing, st.Total, strings.Join(parts, ", "), rows, what)
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return len(l)
}
