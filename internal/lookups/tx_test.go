package lookups_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// refusing cannot record events of one action (a full disk).
type refusing struct {
	action string
	next   *audit.Memory
}

func (r *refusing) Record(ctx context.Context, e audit.Event) error {
	if e.Action == r.action {
		return errors.New("audit store: disk full")
	}
	return r.next.Record(ctx, e)
}

// A lookup change whose audit event cannot be written is not made.
func TestLookupChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &refusing{next: &audit.Memory{}}
	svc := lookups.New(db, blobs, rec, lookups.Config{MaxBytes: 1 << 20}, nil)

	rec.action = "lookup.upload"
	if _, err := svc.Upload(alice, "", "x.csv", strings.NewReader(xCSV)); err == nil {
		t.Fatal("upload succeeded without its audit event")
	}
	if ls, err := db.FindLookups(context.Background(), "x.csv"); err != nil || len(ls) != 0 {
		t.Fatalf("the lookup was stored without its audit event: %+v, %v", ls, err)
	}
	rec.action = ""
	before, err := svc.Upload(alice, "", "x.csv", strings.NewReader(xCSV))
	if err != nil {
		t.Fatal(err)
	}
	rec.action = "lookup.upload"
	if _, err := svc.Upload(alice, "", "x.csv", strings.NewReader("a\n1\n")); err == nil {
		t.Fatal("replacing upload succeeded without its audit event")
	}
	rec.action = "lookup.share"
	if _, err := svc.Share(alice, "", "x.csv", access.SharingApp, nil, nil); err == nil {
		t.Fatal("share succeeded without its audit event")
	}
	rec.action = "lookup.delete"
	if err := svc.Delete(alice, "", "x.csv"); err == nil {
		t.Fatal("delete succeeded without its audit event")
	}
	ls, err := db.FindLookups(context.Background(), "x.csv")
	if err != nil || len(ls) != 1 || ls[0].Digest != before.Digest || ls[0].Sharing != string(access.SharingUser) {
		t.Fatalf("after refused events the lookup is %+v, %v; want it unchanged (%s, private)", ls, err, before.Digest)
	}
}
