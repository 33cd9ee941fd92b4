package models

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/store"
)

// failingRecorder refuses events of one action, as a full disk would.
type failingRecorder struct {
	mu     sync.Mutex
	failOn string
	next   *audit.Memory
}

func (f *failingRecorder) fail(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOn = action
}

func (f *failingRecorder) Record(ctx context.Context, e audit.Event) error {
	f.mu.Lock()
	failOn := f.failOn
	f.mu.Unlock()
	if e.Action == failOn {
		return errors.New("audit store: disk full")
	}
	return f.next.Record(ctx, e)
}

// A change whose audit event cannot be written is not made, and the
// request fails.
func TestChangeRollsBackWithoutItsAuditEvent(t *testing.T) {
	e := newEnv(t, Options{})
	rec := &failingRecorder{next: e.audit}
	e.reg.ko.SetRecorder(rec)
	ctx := as(alice)

	for _, action := range []string{"model.create", "model.version.create"} {
		rec.fail(action)
		_, err := e.reg.RegisterVersion(ctx, ref(t, "app:M"), VersionInput{Algo: "LinearRegression",
			Files: []File{{Path: "model.bin", Reader: stringReader("v1")}}})
		if err == nil {
			t.Fatalf("RegisterVersion with %s unrecordable succeeded", action)
		}
		if ms, err := e.db.FindModels(context.Background(), "M"); err != nil || len(ms) != 0 {
			t.Fatalf("with %s unrecordable the model row exists: %+v, %v", action, ms, err)
		}
	}

	rec.fail("")
	e.register(t, alice, "app:M", "LinearRegression", "v1")
	e.register(t, alice, "app:M", "LinearRegression", "v2")
	get := func() store.Model {
		t.Helper()
		ms, err := e.db.FindModels(context.Background(), "M")
		if err != nil || len(ms) != 1 {
			t.Fatalf("FindModels(M) = %+v, %v; want one model", ms, err)
		}
		return ms[0]
	}
	before := get()
	changes := []struct {
		action string
		do     func() error
	}{
		{"model.version.create", func() error {
			_, err := e.reg.RegisterVersion(ctx, ref(t, "app:M"), VersionInput{Algo: "LinearRegression",
				Files: []File{{Path: "model.bin", Reader: stringReader("v3")}}})
			return err
		}},
		{"model.rollback", func() error { _, err := e.reg.Rollback(ctx, ref(t, "app:M"), 1, ""); return err }},
		{"model.alias.set", func() error { _, err := e.reg.SetAlias(ctx, ref(t, "app:M"), "prod", 1, ""); return err }},
		{"model.share", func() error {
			_, err := e.reg.Share(ctx, ref(t, "app:M"), access.SharingGlobal, []string{"*"}, nil)
			return err
		}},
		{"model.update", func() error {
			d := "changed"
			_, err := e.reg.Update(ctx, ref(t, "app:M"), ModelUpdate{Description: &d})
			return err
		}},
		{"model.delete", func() error { return e.reg.Delete(ctx, ref(t, "app:M")) }},
	}
	for _, c := range changes {
		rec.fail(c.action)
		if err := c.do(); err == nil {
			t.Errorf("%s succeeded without its audit event", c.action)
		}
		after := get()
		if after.Latest != before.Latest || after.Current != before.Current || after.Sharing != before.Sharing ||
			after.Description != before.Description {
			t.Errorf("%s was made without its audit event: before %+v, after %+v", c.action, before, after)
		}
	}
	rec.fail("")
	if _, err := e.reg.Rollback(ctx, ref(t, "app:M"), 1, ""); err != nil {
		t.Fatalf("with auditing back, rollback: %v", err)
	}
}
