package models

import (
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestAppWriteNeededToShareIntoAnApp: a reader of the app may keep private
// models there but not create or share one at app level; fit's early check
// (AuthorizeWrite) refuses as registration would, before any container starts.
func TestAppWriteNeededToShareIntoAnApp(t *testing.T) {
	e := newEnv(t, Options{})
	reader := &access.Principal{User: "rita", Roles: []string{"user"}, App: "sales",
		Apps: access.AppSet{"sales": {Read: true}}}
	ctx := as(reader)
	if err := e.reg.AuthorizeWrite(ctx, ref(t, "app:Pay")); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "write permission on app sales") {
		t.Errorf("AuthorizeWrite(app:Pay) as a reader: %v", err)
	}
	if _, err := e.reg.RegisterVersion(ctx, ref(t, "app:Pay"), input("w")); !errdefs.IsPermissionDenied(err) {
		t.Errorf("RegisterVersion(app:Pay) as a reader: %v", err)
	}
	if err := e.reg.AuthorizeWrite(ctx, ref(t, "Mine")); err != nil {
		t.Errorf("AuthorizeWrite(Mine): %v", err)
	}
	if _, err := e.reg.RegisterVersion(ctx, ref(t, "Mine"), input("w")); err != nil {
		t.Fatalf("private model as a reader: %v", err)
	}
	if _, err := e.reg.Share(ctx, ref(t, "Mine"), access.SharingGlobal, nil, nil); !errdefs.IsPermissionDenied(err) {
		t.Errorf("share Mine globally as a reader: %v", err)
	}
	denied := 0
	for _, ev := range e.audit.Events() {
		if ev.Result == audit.ResultDenied && ev.User == "rita" {
			denied++
		}
	}
	if denied != 3 {
		t.Errorf("%d denied events for rita, want 3", denied)
	}
	// Another app's reader does not see what is shared in sales.
	if _, err := e.reg.RegisterVersion(as(alice), ref(t, "app:Pay"), input("w")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Share(as(alice), ref(t, "app:Pay"), access.SharingGlobal, nil, nil); err != nil {
		t.Fatal(err)
	}
	outsider := &access.Principal{User: "olga", Roles: []string{"user"}, App: "hr", Apps: access.AppSet{"hr": {Read: true}}}
	if _, err := e.reg.Show(as(outsider), ref(t, "Pay")); !errdefs.IsNotFound(err) {
		t.Errorf("olga (no read on sales) shows global Pay: %v", err)
	}
	if page, err := e.reg.List(as(outsider), ListOptions{}); err != nil || len(page.Models) != 0 {
		t.Errorf("olga lists %+v, %v", page, err)
	}
	if s, err := e.reg.Show(as(carol), ref(t, "Pay")); err != nil || s.Owner != "alice" {
		t.Errorf("carol (reads sales) shows global Pay: %+v, %v", s, err)
	}
}

func input(content string) VersionInput {
	return VersionInput{Algo: "nb", Files: []File{{Path: "model.bin", Reader: strings.NewReader(content)}}}
}
