package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

func (c *Console) auditRoutes() []api.Route {
	return []api.Route{
		page("GET", "/audit", access.CapReadAudit, "audit.browse", c.audit),
	}
}

// auditFields are the audit page's filters, each an event field.
var auditFields = []string{"user", "action", "result", "object"}

type auditData struct {
	Filter  map[string]string
	Text    string
	Limit   int
	Verify  wire.AuditVerify
	Search  string
	Columns []string
	Rows    []wire.Row
}

// splQuote quotes s as an SPL string.
func splQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// auditSearch is the search the filters make over index=_internal.
func auditSearch(f map[string]string, text string, limit int) string {
	parts := []string{"search index=_internal"}
	for _, k := range auditFields {
		if v := f[k]; v != "" {
			parts = append(parts, k+"="+splQuote(v))
		}
	}
	if text != "" {
		parts = append(parts, splQuote(text))
	}
	return strings.Join(parts, " ") + " | head " + strconv.Itoa(limit) + " | table _time user action object result message"
}

// audit shows the chain's verification and the events the filters find,
// by the API's verify route and a search of _internal (so it shows what
// the same user's search would).
func (c *Console) audit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := auditData{Filter: map[string]string{}, Text: strings.TrimSpace(q.Get("text")), Limit: 100}
	for _, k := range auditFields {
		d.Filter[k] = strings.TrimSpace(q.Get(k))
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return errdefs.Invalidf("limit %q is not valid: give 1 to 10000", s)
		}
		d.Limit = n
	}
	if err := c.api.InvokeJSON(r, "GET", "/v1/audit/verify", nil, nil, nil, &d.Verify); err != nil {
		return err
	}
	d.Search = auditSearch(d.Filter, d.Text, d.Limit)
	rows, fields, err := c.searchAll(r, d.Search)
	if err != nil {
		return err
	}
	d.Rows, d.Columns = rows, fields
	return c.render(w, r, http.StatusOK, "audit", "Audit", d)
}

// searchAll runs q through the API's search route and collects its rows.
func (c *Console) searchAll(r *http.Request, q string) ([]wire.Row, []string, error) {
	var b api.Buffer
	if err := c.api.Invoke(&b, r, "POST", "/v1/search", nil, nil, wire.SearchRequest{Search: q}); err != nil {
		return nil, nil, err
	}
	var rows []wire.Row
	var fields []string
	for _, line := range bytes.Split(b.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var f wire.SearchFrame
		if err := json.Unmarshal(line, &f); err != nil {
			return nil, nil, errdefs.Internalf("search frame: %w", err)
		}
		switch {
		case f.Row != nil:
			rows = append(rows, *f.Row)
		case f.Error != nil:
			return nil, nil, errdefs.Newf(errdefs.ErrInvalid, "%s", f.Error.Message)
		case f.Done != nil:
			fields = f.Done.Fields
		}
	}
	return rows, fields, nil
}
