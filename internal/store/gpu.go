package store

import (
	"context"
	"time"
)

// The kinds of GPU quota: one user's, or each member's of a role.
const (
	GPUQuotaUser = "user"
	GPUQuotaRole = "role"
)

// GPUQuota caps the GPUs one user may hold at once: Kind GPUQuotaUser
// names that user, GPUQuotaRole a role whose every member it caps (each
// member on their own, not the role's members together). (Kind, Name) is
// unique.
type GPUQuota struct {
	Kind      string
	Name      string
	Max       int // 0 or more
	UpdatedBy string
	Updated   time.Time
}

// GPUQuotaStore keeps the GPU quotas.
type GPUQuotaStore interface {
	Transactor
	// PutGPUQuota inserts q, or replaces the quota (q.Kind, q.Name).
	PutGPUQuota(ctx context.Context, q GPUQuota) error
	// DeleteGPUQuota removes the quota (kind, name); ErrNotFound when
	// there is none.
	DeleteGPUQuota(ctx context.Context, kind, name string) error
	// ListGPUQuotas returns every quota ordered by kind, then name.
	ListGPUQuotas(ctx context.Context) ([]GPUQuota, error)
}
