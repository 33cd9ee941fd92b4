package notebooks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
)

func TestNotebookShareAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	alice, bob, carol := principal("alice"), principal("bob"), principal("carol", "editors")
	admin := principal("root")
	admin.Caps = access.CapSet{access.CapAdminAllObjects: true}
	push := func(p *access.Principal, name string) {
		t.Helper()
		if _, err := s.Push(ctx, p, notebooks.PushRequest{Name: name, Format: "ipynb", Content: []byte(goodNB)}); err != nil {
			t.Fatalf("push %s by %s: %v", name, p.User, err)
		}
	}
	wantNotFound := func(what string, err error) {
		t.Helper()
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "notebook not found: nb") {
			t.Fatalf("%s = %v, want notebook not found: nb", what, err)
		}
	}
	push(alice, "nb")
	_, err := s.Get(ctx, bob, "nb")
	wantNotFound("bob get private", err)
	_, err = s.Share(ctx, bob, "nb", access.SharingApp, nil, nil)
	wantNotFound("bob share unreadable", err)
	_, err = s.Delete(ctx, bob, "nb")
	wantNotFound("bob delete unreadable", err)
	if _, err := s.Share(ctx, alice, "nb", "everyone", nil, nil); !errdefs.IsInvalid(err) {
		t.Fatalf("share with bad sharing = %v, want invalid", err)
	}

	// Publishing code to an app needs publish_notebooks.
	if _, err := s.Share(ctx, alice, "nb", access.SharingApp, nil, nil); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "publish_notebooks") {
		t.Fatalf("share at app level without publish_notebooks = %v, want 403 naming it", err)
	}
	alice.Caps[access.CapPublishNotebooks] = true
	info, err := s.Share(ctx, alice, "nb", access.SharingApp, nil, []string{"editors"})
	if err != nil || info.Sharing != "app" || info.Current.Version != 1 || len(info.Write) != 1 {
		t.Fatalf("alice share = %+v, %v", info, err)
	}
	if _, vs, err := s.History(ctx, bob, "nb"); err != nil || len(vs) != 1 {
		t.Fatalf("bob history after share = %v, %v", vs, err)
	}
	if _, err := s.Share(ctx, bob, "nb", access.SharingGlobal, nil, nil); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("bob share = %v, want permission denied", err)
	}
	if _, err := s.Delete(ctx, bob, "nb"); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("bob delete = %v, want permission denied", err)
	}
	if _, err := s.Share(ctx, carol, "nb", access.SharingUser, nil, nil); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("carol (writer, not owner) share = %v, want permission denied", err)
	}

	// A second private notebook of the name cannot go app-level too.
	push(bob, "nb") // bob's private one: his own wins over the shared one
	bob.Caps[access.CapPublishNotebooks] = true
	if _, err := s.Share(ctx, bob, "nb", access.SharingApp, nil, nil); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "already has a shared notebook nb") {
		t.Fatalf("second app share = %v, want conflict", err)
	}
	if n, err := s.Delete(ctx, bob, "nb"); err != nil || n.Owner != "bob" {
		t.Fatalf("bob deletes his own = %+v, %v", n, err)
	}

	// A writer may delete; then it is gone for everyone.
	if n, err := s.Delete(ctx, carol, "nb"); err != nil || n.Owner != "alice" {
		t.Fatalf("carol (write role) delete = %+v, %v", n, err)
	}
	_, err = s.Get(ctx, alice, "nb")
	wantNotFound("alice get deleted", err)
	_, err = s.Delete(ctx, alice, "nb")
	wantNotFound("alice delete deleted", err)

	// An administrator may share another's shared notebook.
	push(alice, "nb2")
	if _, err := s.Share(ctx, alice, "nb2", access.SharingGlobal, []string{"power"}, nil); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Share(ctx, admin, "nb2", access.SharingApp, nil, nil); err != nil || info.Sharing != "app" || len(info.Read) != 0 {
		t.Fatalf("admin share = %+v, %v", info, err)
	}
	if _, err := s.Delete(ctx, admin, "nb2"); err != nil {
		t.Fatalf("admin delete: %v", err)
	}
	if ns, err := s.List(ctx, alice); err != nil || len(ns) != 0 {
		t.Fatalf("list after deletes = %+v, %v", ns, err)
	}
}
