package sqlite

import (
	"context"
	"testing"
)

// TestMigrationDropsEditImages: a role stored with the capability
// edit_images, which is gone, loses it and keeps the rest, in order.
func TestMigrationDropsEditImages(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO roles(name, capabilities, created) VALUES
		('imgadmin', '["search","edit_images","use_gpu"]', '2026-01-01T00:00:00Z'), ('plain', '["search"]', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM schema_migrations WHERE name = '0086_drop_edit_images.sql'`); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"imgadmin": `["search","use_gpu"]`, "plain": `["search"]`} {
		var got string
		if err := db.SQL().QueryRowContext(ctx, `SELECT capabilities FROM roles WHERE name = ?`, name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("role %s after the migration has %s, want %s", name, got, want)
		}
	}
}
