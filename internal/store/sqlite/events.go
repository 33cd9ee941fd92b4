package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

var _ store.EventStore = (*DB)(nil)

// durableTx runs fn in a transaction on one connection switched to
// synchronous=FULL, so that the commit is on disk (WAL fsynced) when it
// returns, not only safe against a process crash.
func (s *DB) durableTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.txOf(ctx) != nil {
		return s.tx(ctx, fn) // a savepoint of the caller's (durable) transaction
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=FULL`); err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous=NORMAL`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: commit: %w", err)
	}
	return nil
}

// --- indexes ---

// CreateIndex adds an index; ErrConflict if the name exists.
func (s *DB) CreateIndex(ctx context.Context, ix store.IndexInfo) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO event_indexes(name, builtin, created) VALUES (?, ?, ?)`,
		ix.Name, ix.Builtin, fmtTime(nowIfZero(ix.Created)))
	return inserted(err, fmt.Sprintf("index %q", ix.Name))
}

func scanIndex(sc scanner) (store.IndexInfo, error) {
	var ix store.IndexInfo
	var created string
	if err := sc.Scan(&ix.Name, &ix.Builtin, &created, &ix.Events); err != nil {
		return ix, err
	}
	var err error
	ix.Created, err = parseTime(created)
	return ix, err
}

// GetIndex returns one index, or ErrNotFound.
func (s *DB) GetIndex(ctx context.Context, name string) (store.IndexInfo, error) {
	ix, err := scanIndex(s.q(ctx).QueryRowContext(ctx, `SELECT i.name, i.builtin, i.created,
		(SELECT count(*) FROM events e WHERE e.idx = i.name) FROM event_indexes i WHERE i.name = ?`, name))
	if err == sql.ErrNoRows {
		return ix, errdefs.NotFoundf("index %q not found", name)
	}
	if err != nil {
		return ix, fmt.Errorf("sqlite store: get index %q: %w", name, err)
	}
	return ix, nil
}

// ListIndexes returns every index, sorted by name.
func (s *DB) ListIndexes(ctx context.Context) ([]store.IndexInfo, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT name, builtin, created, 0 FROM event_indexes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list indexes: %w", err)
	}
	defer rows.Close()
	var out []store.IndexInfo
	for rows.Next() {
		ix, err := scanIndex(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list indexes: %w", err)
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// DeleteIndex removes an index and its events.
func (s *DB) DeleteIndex(ctx context.Context, name string) error {
	return s.durableTx(ctx, func(tx *sql.Tx) error {
		var builtin bool
		err := tx.QueryRowContext(ctx, `SELECT builtin FROM event_indexes WHERE name = ?`, name).Scan(&builtin)
		if err == sql.ErrNoRows {
			return errdefs.NotFoundf("index %q not found", name)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: delete index %q: %w", name, err)
		}
		if builtin {
			return errdefs.Invalidf("index %q is built in and cannot be deleted", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE idx = ?`, name); err != nil {
			return fmt.Errorf("sqlite store: delete events of index %q: %w", name, err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM event_indexes WHERE name = ?`, name)
		return err
	})
}

// --- events ---

func encFields(f map[string]string) string {
	if len(f) == 0 {
		return ""
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func insertEvent(ctx context.Context, st *sql.Stmt, e store.EventRecord) (int64, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	ns, fields := e.Time.UnixNano(), encFields(e.Fields)
	res, err := st.ExecContext(ctx, e.Index, ns, e.Host, e.Source, e.Sourcetype, e.Raw, fields,
		eventHash(e.Index, ns, e.Host, e.Source, e.Sourcetype, e.Raw, fields))
	if kind := constraint(err); kind != nil {
		return 0, fmt.Errorf("index %q: %w", e.Index, kind)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite store: insert event: %w", err)
	}
	return res.LastInsertId()
}

const insertEventSQL = `INSERT INTO events(idx, time_ns, host, source, sourcetype, raw, fields, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// InsertEvents stores evs in one durable transaction.
func (s *DB) InsertEvents(ctx context.Context, evs []store.EventRecord) error {
	if len(evs) == 0 {
		return nil
	}
	return s.durableTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return fmt.Errorf("sqlite store: %w", err)
		}
		defer st.Close()
		var first, last int64
		for i, e := range evs {
			id, err := insertEvent(ctx, st, e)
			if err != nil {
				return err
			}
			if i == 0 {
				first = id
			}
			last = id
		}
		return indexRange(ctx, tx, first, last)
	})
}

// indexRange adds events first..last (inserted by this transaction) to the
// full-text index in one statement.
func indexRange(ctx context.Context, tx *sql.Tx, first, last int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO events_fts(rowid, raw, fields) SELECT id, raw, fields FROM events WHERE id BETWEEN ? AND ?`, first, last)
	if err != nil {
		return fmt.Errorf("sqlite store: full-text index: %w", err)
	}
	return nil
}

// isTokenChar matches the FTS5 tokenizer of migration 0030: unicode61's
// default token categories (L*, N*, Co) plus '_'.
func isTokenChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// ftsMatch turns terms into an FTS5 MATCH expression that every event
// containing all terms satisfies: a term without wildcards becomes the
// phrase of its tokens; in a term with "*", each token becomes its own
// condition, a prefix query when a "*" follows it and dropped when a "*"
// precedes it. It returns "" when no term narrows anything.
func ftsMatch(terms []string) string {
	var parts []string
	for _, term := range terms {
		type tok struct {
			text          string
			before, after bool // a '*' right before / after the token
		}
		var toks []tok
		rs := []rune(term)
		for i := 0; i < len(rs); {
			if !isTokenChar(rs[i]) {
				i++
				continue
			}
			j := i
			for j < len(rs) && isTokenChar(rs[j]) {
				j++
			}
			toks = append(toks, tok{text: string(rs[i:j]), before: i > 0 && rs[i-1] == '*', after: j < len(rs) && rs[j] == '*'})
			i = j
		}
		if len(toks) == 0 {
			continue
		}
		if !strings.Contains(term, "*") {
			words := make([]string, len(toks))
			for i, t := range toks {
				words[i] = t.text
			}
			parts = append(parts, `"`+strings.Join(words, " ")+`"`)
			continue
		}
		for _, t := range toks {
			switch {
			case t.before:
			case t.after:
				parts = append(parts, `"`+t.text+`" *`)
			default:
				parts = append(parts, `"`+t.text+`"`)
			}
		}
	}
	return strings.Join(parts, " AND ")
}
