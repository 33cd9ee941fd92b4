package sqlite

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/store"
)

var _ store.GPUQuotaStore = (*DB)(nil)

const gpuQuotaCols = `kind, name, max_gpus, updated_by, updated`

// PutGPUQuota inserts q or replaces the quota (q.Kind, q.Name).
func (s *DB) PutGPUQuota(ctx context.Context, q store.GPUQuota) error {
	_, err := s.q(ctx).ExecContext(ctx, `INSERT INTO gpu_quotas(`+gpuQuotaCols+`) VALUES (?,?,?,?,?)
		ON CONFLICT(kind, name) DO UPDATE SET max_gpus = excluded.max_gpus, updated_by = excluded.updated_by, updated = excluded.updated`,
		q.Kind, q.Name, q.Max, q.UpdatedBy, fmtTime(nowIfZero(q.Updated)))
	if kind := constraint(err); kind != nil {
		return fmt.Errorf("GPU quota %s %q (max %d): %w", q.Kind, q.Name, q.Max, kind)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: put GPU quota %s %q: %w", q.Kind, q.Name, err)
	}
	return nil
}

// DeleteGPUQuota removes the quota (kind, name).
func (s *DB) DeleteGPUQuota(ctx context.Context, kind, name string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM gpu_quotas WHERE kind = ? AND name = ?`, kind, name)
	return affected(res, err, fmt.Sprintf("GPU quota of %s %q", kind, name))
}

func scanGPUQuota(sc scanner) (store.GPUQuota, error) {
	var q store.GPUQuota
	var updated string
	if err := sc.Scan(&q.Kind, &q.Name, &q.Max, &q.UpdatedBy, &updated); err != nil {
		return q, err
	}
	return q, parseTimes(&q.Updated, updated)
}

// ListGPUQuotas returns every quota by kind, then name.
func (s *DB) ListGPUQuotas(ctx context.Context) ([]store.GPUQuota, error) {
	return queryAll(ctx, s, "list GPU quotas", scanGPUQuota, `SELECT `+gpuQuotaCols+` FROM gpu_quotas ORDER BY kind, name`)
}
