package notebooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// Share changes the sharing and read and write roles of the notebook name
// means to p; only its owner or a holder of admin_all_objects may, and
// sharing beyond the owner needs write on the app (knowledge.Share). A
// notebook p may not read is not found. nil roles mean none.
func (s *Service) Share(ctx context.Context, p *access.Principal, name string, sharing access.Sharing, read, write []string) (Info, error) {
	return store.Run(ctx, s.st, func(ctx context.Context) (Info, error) { return s.shareTx(ctx, p, name, sharing, read, write) })
}

// shareTx is Share inside the store transaction of ctx.
func (s *Service) shareTx(ctx context.Context, p *access.Principal, name string, sharing access.Sharing, read, write []string) (Info, error) {
	if p == nil {
		return Info{}, errdefs.Unauthenticated("sharing a notebook needs a logged-in user")
	}
	if _, err := access.ParseSharing(string(sharing)); err != nil {
		return Info{}, err
	}
	n, cands, err := s.resolve(ctx, p, name, false)
	if err != nil {
		return Info{}, err
	}
	if !p.CanShare(ACL(n)) {
		return Info{}, s.ko.Denied(ctx, p, "notebook.share", object(n), fmt.Sprintf("you may not change the sharing of notebook %s: ask its owner %s or an administrator", name, n.Owner))
	}
	if err := checkPublish(p, name, sharing); err != nil {
		return Info{}, s.ko.Denied(ctx, p, "notebook.share", object(n), err.Error())
	}
	acl, err := knowledge.Share(ctx, s.ko, p, object(n), sharing, read, write, cands, object)
	if err != nil {
		return Info{}, err
	}
	upd := n
	upd.Sharing, upd.Read, upd.Write, upd.Updated = string(acl.Sharing), acl.Read, acl.Write, s.now()
	if err := s.st.UpdateNotebook(ctx, upd); err != nil {
		if errdefs.IsConflict(err) {
			return Info{}, errdefs.Conflictf("%s already has a notebook %s at %s level in app %s: rename or delete one of them first", n.Owner, name, sharing, n.App)
		}
		return Info{}, err
	}
	cur, err := s.latest(ctx, upd)
	if err != nil {
		return Info{}, err
	}
	s.ko.Record(ctx, p, "notebook.share", object(upd), audit.ResultSuccess, "", map[string]any{
		"before": map[string]any{"sharing": n.Sharing, "read": n.Read, "write": n.Write}, "read": acl.Read, "write": acl.Write})
	return Info{Notebook: upd, Current: cur}, nil
}

// checkPublish refuses sharing a notebook beyond its owner without
// publish_notebooks (or admin_all_objects). A notebook is code: shared with
// an app or globally, it is what other users' fits of that name run when
// they have no private one, so publishing it is a capability of its own.
// Share and Push (--sharing) give the same answer.
func checkPublish(p *access.Principal, name string, sharing access.Sharing) error {
	if sharing == "" || sharing == access.SharingUser || p.Can(access.CapPublishNotebooks) || p.Can(access.CapAdminAllObjects) {
		return nil
	}
	return errdefs.PermissionDeniedf(
		"permission denied: sharing notebook %s at %s level needs the capability %q (other users' fits may run it), which your roles (%s) do not grant; ask an administrator",
		name, sharing, access.CapPublishNotebooks, strings.Join(p.Roles, ", "))
}

// Delete removes the notebook name means to p and its version records; it
// needs write permission. A notebook p may not read is not found. The
// content blobs stay in the blob store (other versions or notebooks may
// share them). It returns the deleted notebook.
func (s *Service) Delete(ctx context.Context, p *access.Principal, name string) (store.Notebook, error) {
	return store.Run(ctx, s.st, func(ctx context.Context) (store.Notebook, error) { return s.deleteTx(ctx, p, name) })
}

// deleteTx is Delete inside the store transaction of ctx.
func (s *Service) deleteTx(ctx context.Context, p *access.Principal, name string) (store.Notebook, error) {
	if p == nil {
		return store.Notebook{}, errdefs.Unauthenticated("deleting a notebook needs a logged-in user")
	}
	n, _, err := s.resolve(ctx, p, name, false)
	if err != nil {
		return store.Notebook{}, err
	}
	if !p.CanWrite(ACL(n)) {
		return store.Notebook{}, s.ko.Denied(ctx, p, "notebook.delete", object(n), fmt.Sprintf("you may not delete notebook %s: it needs write permission; ask its owner %s or an administrator", name, n.Owner))
	}
	if err := s.st.DeleteNotebook(ctx, n.ID); err != nil {
		if errdefs.IsNotFound(err) {
			return store.Notebook{}, s.ko.NotFound(name)
		}
		return store.Notebook{}, err
	}
	s.ko.Record(ctx, p, "notebook.delete", object(n), audit.ResultSuccess, "", map[string]any{"versions": n.Latest})
	return n, nil
}
