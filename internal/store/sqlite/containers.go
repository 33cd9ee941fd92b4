package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

var _ store.ContainerStore = (*DB)(nil)

const containerCols = `id, name, scope, owner, image, runtime, desired, status, message, endpoint, model, gpus,
	runtime_id, started, started_by, token_sealed, token_hint, ca_pem, roles, created, updated, cert, gpu_devices`

func scanContainer(sc scanner) (store.Container, error) {
	var c store.Container
	var started, roles, created, updated, devices string
	if err := sc.Scan(&c.ID, &c.Name, &c.Scope, &c.Owner, &c.Image, &c.Runtime, &c.Desired, &c.Status, &c.Message,
		&c.Endpoint, &c.Model, &c.GPUs, &c.RuntimeID, &started, &c.StartedBy, &c.TokenSealed, &c.TokenHint,
		&c.CAPEM, &roles, &created, &updated, &c.Cert, &devices); err != nil {
		return c, err
	}
	var err error
	if c.Roles, err = decList(roles); err != nil {
		return c, err
	}
	if c.GPUDevices, err = decList(devices); err != nil {
		return c, err
	}
	if len(c.GPUDevices) == 0 {
		c.GPUDevices = nil
	}
	if c.Started, err = parseTime(started); err != nil {
		return c, err
	}
	if c.Created, err = parseTime(created); err != nil {
		return c, err
	}
	c.Updated, err = parseTime(updated)
	return c, err
}

// CreateContainer inserts a container record.
func (s *DB) CreateContainer(ctx context.Context, c store.Container) (store.Container, error) {
	c.Created = nowIfZero(c.Created)
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if c.Updated.IsZero() {
		c.Updated = c.Created
	}
	err := s.q(ctx).QueryRowContext(ctx, `INSERT INTO containers(name, scope, owner, image, runtime, desired, status,
		message, endpoint, model, gpus, runtime_id, started, started_by, token_sealed, token_hint, ca_pem, roles, created, updated, cert, gpu_devices)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		c.Name, c.Scope, c.Owner, c.Image, c.Runtime, c.Desired, c.Status, c.Message, c.Endpoint, c.Model, c.GPUs,
		c.RuntimeID, fmtTime(c.Started), c.StartedBy, c.TokenSealed, c.TokenHint, c.CAPEM, encList(c.Roles),
		fmtTime(c.Created), fmtTime(c.Updated), c.Cert, encList(c.GPUDevices)).Scan(&c.ID)
	if err != nil {
		if kind := constraint(err); kind != nil {
			return store.Container{}, fmt.Errorf("container %q exists: %w", c.Name, kind)
		}
		return store.Container{}, fmt.Errorf("sqlite store: create container %q: %w", c.Name, err)
	}
	return c, nil
}

// GetContainer returns the record (name, scope).
func (s *DB) GetContainer(ctx context.Context, name, scope string) (store.Container, error) {
	c, err := scanContainer(s.q(ctx).QueryRowContext(ctx, `SELECT `+containerCols+` FROM containers WHERE name = ? AND scope = ?`, name, scope))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errdefs.NotFoundf("container not found: %s", name)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite store: get container %q: %w", name, err)
	}
	return c, nil
}

// ListContainers returns every record.
func (s *DB) ListContainers(ctx context.Context) ([]store.Container, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT `+containerCols+` FROM containers ORDER BY name, scope`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list containers: %w", err)
	}
	defer rows.Close()
	var out []store.Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list containers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateContainer replaces the record's mutable fields.
func (s *DB) UpdateContainer(ctx context.Context, c store.Container) error {
	c.Updated = nowIfZero(c.Updated)
	res, err := s.q(ctx).ExecContext(ctx, `UPDATE containers SET owner = ?, image = ?, runtime = ?, desired = ?, status = ?,
		message = ?, endpoint = ?, model = ?, gpus = ?, runtime_id = ?, started = ?, started_by = ?, token_sealed = ?,
		token_hint = ?, ca_pem = ?, roles = ?, updated = ?, cert = ?, gpu_devices = ? WHERE id = ?`,
		c.Owner, c.Image, c.Runtime, c.Desired, c.Status, c.Message, c.Endpoint, c.Model, c.GPUs, c.RuntimeID,
		fmtTime(c.Started), c.StartedBy, c.TokenSealed, c.TokenHint, c.CAPEM, encList(c.Roles), fmtTime(c.Updated), c.Cert,
		encList(c.GPUDevices), c.ID)
	return affected(res, err, fmt.Sprintf("container %q", c.Name))
}

// DeleteContainer removes the record id.
func (s *DB) DeleteContainer(ctx context.Context, id int64) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM containers WHERE id = ?`, id)
	return affected(res, err, fmt.Sprintf("container %d", id))
}
