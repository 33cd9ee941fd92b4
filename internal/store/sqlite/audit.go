package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// AppendAudit stores rec and its searchable copy ev in one durable
// transaction.
func (s *DB) AppendAudit(ctx context.Context, rec store.AuditRecord, ev store.EventRecord) error {
	return s.durableTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return fmt.Errorf("sqlite store: %w", err)
		}
		defer st.Close()
		id, err := insertEvent(ctx, st, ev)
		if err != nil {
			return err
		}
		if err := indexRange(ctx, tx, id, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO audit_chain(seq, prev_hash, hash, mac, body, event_id) VALUES (?, ?, ?, ?, ?, ?)`,
			rec.Seq, rec.PrevHash, rec.Hash, rec.MAC, rec.Body, id)
		if kind := constraint(err); kind != nil {
			return fmt.Errorf("audit event seq %d already exists: %w", rec.Seq, kind)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: append audit event %d: %w", rec.Seq, err)
		}
		return nil
	})
}

// AuditHead returns the last record of the chain, or ErrNotFound.
func (s *DB) AuditHead(ctx context.Context) (store.AuditRecord, error) {
	var r store.AuditRecord
	err := s.db.QueryRowContext(ctx, `SELECT seq, prev_hash, hash, mac, body FROM audit_chain ORDER BY seq DESC LIMIT 1`).
		Scan(&r.Seq, &r.PrevHash, &r.Hash, &r.MAC, &r.Body)
	if err == sql.ErrNoRows {
		return r, errdefs.NotFound("the audit chain is empty")
	}
	if err != nil {
		return r, fmt.Errorf("sqlite store: audit head: %w", err)
	}
	return r, nil
}

// AuditRecords streams records from seq from on, in seq order.
func (s *DB) AuditRecords(ctx context.Context, from int64) iter.Seq2[store.AuditRecord, error] {
	return func(yield func(store.AuditRecord, error) bool) {
		rows, err := s.db.QueryContext(ctx, `SELECT a.seq, a.prev_hash, a.hash, a.mac, a.body, coalesce(e.raw, '')
			FROM audit_chain a LEFT JOIN events e ON e.id = a.event_id WHERE a.seq >= ? ORDER BY a.seq`, from)
		if err != nil {
			yield(store.AuditRecord{}, fmt.Errorf("sqlite store: audit records: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var r store.AuditRecord
			if err := rows.Scan(&r.Seq, &r.PrevHash, &r.Hash, &r.MAC, &r.Body, &r.IndexedRaw); err != nil {
				yield(r, fmt.Errorf("sqlite store: audit records: %w", err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(store.AuditRecord{}, fmt.Errorf("sqlite store: audit records: %w", err))
		}
	}
}

// AddAuditCheckpoint stores cp durably.
func (s *DB) AddAuditCheckpoint(ctx context.Context, cp store.AuditCheckpoint) error {
	return s.durableTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints(count, head, time, key_id, signature, keyed_from) VALUES (?, ?, ?, ?, ?, ?)`,
			cp.Count, cp.Head, fmtTime(cp.Time), cp.KeyID, cp.Signature, cp.KeyedFrom)
		if err != nil {
			return fmt.Errorf("sqlite store: add audit checkpoint: %w", err)
		}
		return nil
	})
}

// ListAuditCheckpoints returns every checkpoint, oldest first.
func (s *DB) ListAuditCheckpoints(ctx context.Context) ([]store.AuditCheckpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT count, head, time, key_id, signature, keyed_from FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []store.AuditCheckpoint
	for rows.Next() {
		var cp store.AuditCheckpoint
		var t string
		if err := rows.Scan(&cp.Count, &cp.Head, &t, &cp.KeyID, &cp.Signature, &cp.KeyedFrom); err != nil {
			return nil, fmt.Errorf("sqlite store: list audit checkpoints: %w", err)
		}
		if cp.Time, err = parseTime(t); err != nil {
			return nil, err
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}
