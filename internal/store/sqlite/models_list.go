package sqlite

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// modelDriveLimit is the number of candidate models up to which a listing with a
// tag or a search term reads those candidates first and sorts them, rather
// than walking every model in name order and testing each.
var modelDriveLimit = 2000

// ListModels returns one page of the models the viewer may read; the
// visibility rule and every filter are part of the query. A tag or search
// term that matches few models drives the query from the tag index or the
// trigram index; a common one is tested while walking the name index, which
// then finds a page quickly.
func (s *DB) ListModels(ctx context.Context, q store.ModelQuery) (store.ModelPage, error) {
	if q.Limit <= 0 {
		return store.ModelPage{}, errdefs.Invalid("model listing: page size must be positive")
	}
	from := "models m"
	var where []string
	var args, fromArgs []any
	switch {
	case q.Tag != "" && s.fewMatches(ctx, `SELECT count(*) FROM (SELECT 1 FROM model_tags WHERE tag = ? LIMIT ?)`, q.Tag):
		from = "model_tags t CROSS JOIN models m ON m.id = t.model_id"
		where = append(where, "t.tag = ?")
		args = append(args, q.Tag)
		q.Tag = ""
	case utf8.RuneCountInString(q.Search) >= 3:
		if ids, ok := s.searchIDs(ctx, q.Search); ok {
			from = "json_each(?) s CROSS JOIN models m ON m.id = s.value"
			fromArgs = append(fromArgs, ids)
		}
	}
	if v := q.Viewer; !v.All {
		roleCheck := "m.read_open = 1"
		if len(v.Roles) > 0 {
			roleCheck = "(m.read_open = 1 OR EXISTS (SELECT 1 FROM model_roles r WHERE r.model_id = m.id AND r.role IN (?" +
				strings.Repeat(",?", len(v.Roles)-1) + ")))"
		}
		appCheck := ""
		if v.Apps != nil {
			appCheck = "m.app IN (SELECT value FROM json_each(?)) AND "
		}
		where = append(where, "(m.owner = ? OR ("+appCheck+"(m.sharing = 'global' OR (m.sharing = 'app' AND m.app = ?)) AND "+roleCheck+"))")
		args = append(args, v.User)
		if v.Apps != nil {
			args = append(args, encList(v.Apps))
		}
		args = append(args, v.App)
		for _, r := range v.Roles {
			args = append(args, r)
		}
	}
	for _, f := range []struct{ col, val string }{
		{"m.app", q.App}, {"m.owner", q.Owner}, {"m.sharing", q.Sharing}, {"m.algo", q.Algo}, {"m.name", q.Name},
	} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	if q.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id AND t.tag = ?)")
		args = append(args, q.Tag)
	}
	if q.Search != "" {
		where = append(where, "instr(lower(m.name), ?) > 0")
		args = append(args, strings.ToLower(q.Search))
	}
	if q.After != "" {
		name, id, err := decodeModelCursor(q.After)
		if err != nil {
			return store.ModelPage{}, err
		}
		where = append(where, "(m.name, m.id) > (?, ?)")
		args = append(args, name, id)
	}
	query := `SELECT ` + modelCols + ` FROM ` + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY m.name, m.id LIMIT ?"
	args = append(append(fromArgs, args...), q.Limit+1)
	rows, err := s.q(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return store.ModelPage{}, fmt.Errorf("sqlite store: list models: %w", err)
	}
	ms, err := collectModels(rows)
	if err != nil {
		return store.ModelPage{}, err
	}
	var page store.ModelPage
	if len(ms) > q.Limit {
		ms = ms[:q.Limit]
		last := ms[len(ms)-1]
		page.Next = encodeModelCursor(last.Name, last.ID)
	}
	page.Models = ms
	return page, nil
}

// fewMatches runs a bounded count and reports whether it is at most
// modelDriveLimit; on error it answers false, which keeps the plain plan.
func (s *DB) fewMatches(ctx context.Context, countQuery string, arg any) bool {
	var n int
	if err := s.q(ctx).QueryRowContext(ctx, countQuery, arg, modelDriveLimit+1).Scan(&n); err != nil {
		return false
	}
	return n <= modelDriveLimit
}

// searchIDs returns, as a JSON array, the ids of the models whose names
// contain term according to the trigram index, when there are at most
// modelDriveLimit of them.
func (s *DB) searchIDs(ctx context.Context, term string) (string, bool) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT rowid FROM model_search WHERE model_search MATCH ? LIMIT ?`, modelSearchPhrase(term), modelDriveLimit+1)
	if err != nil {
		return "", false
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return "", false
		}
		if n++; n > modelDriveLimit {
			return "", false
		}
		if n > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	if rows.Err() != nil {
		return "", false
	}
	b.WriteByte(']')
	return b.String(), true
}

// modelSearchPhrase quotes a search term as one FTS5 phrase; with the trigram
// tokenizer a phrase matches as a case-insensitive substring.
func modelSearchPhrase(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func encodeModelCursor(name string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + ":" + name))
}

func decodeModelCursor(c string) (string, int64, error) {
	bad := errdefs.Invalid("model listing: the page cursor is not valid; start again without one")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, bad
	}
	idText, name, ok := strings.Cut(string(b), ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		return "", 0, bad
	}
	return name, id, nil
}
