package nbsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/store"
)

// syncOut stores the container's file f as the owner's notebook when its
// content is in none of the notebook's versions. The version is authored
// by the container's owner (whoever's code wrote the file, the container
// is its owner's) and records the container as its source. It goes into
// a notebook the owner may write (their own, or a shared one they have
// write on); otherwise the push makes it a new private notebook of the
// owner, so a shared notebook the owner may only read is never changed.
func (s *Syncer) syncOut(ctx context.Context, c store.Container, key string, p *access.Principal, ag Agent, f agent.FileInfo, rep *Report) error {
	format, err := notebooks.FormatOf(f.Path)
	if err != nil {
		return nil
	}
	name := notebooks.NameFromFile(f.Path)
	if notebooks.ValidateName(name) != nil {
		return nil
	}
	_, vs, err := s.o.Notebooks.History(ctx, p, name)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return err
	case inHistory(vs, f.SHA256):
		return nil
	}
	if f.Size > notebooks.MaxSize {
		return errdefs.Limitf("%s is larger than %d bytes: move data out of it into notebooks/data", f.Path, notebooks.MaxSize)
	}
	content, err := ag.GetNotebook(ctx, f.Path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	if sha != f.SHA256 && len(vs) > 0 && inHistory(vs, sha) {
		return nil // changed back to a stored version since the listing
	}
	res, err := s.o.Notebooks.Push(ctx, p, notebooks.PushRequest{Name: name, Format: format, Content: content, Source: "container:" + display(c)})
	if errdefs.IsInvalid(err) {
		bad := key + "\x00" + f.Path + "\x00" + sha
		rep.Invalid = append(rep.Invalid, display(c)+": "+f.Path)
		if !s.invalid[bad] {
			s.invalid[bad] = true
			s.o.Log.Warn("notebook sync: not stored, it is not a valid notebook (yet); trying again next pass",
				"container", display(c), "file", f.Path, "owner", p.User, "err", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !res.Changed {
		return nil
	}
	rep.Stored = append(rep.Stored, display(c)+": "+f.Path)
	s.o.Log.Info("notebook synced from container", "container", display(c), "notebook", res.Name, "app", res.App,
		"owner", res.Owner, "version", res.Current.Version, "created", res.Created)
	s.record(ctx, audit.Event{User: p.User, App: res.App, Action: "notebook.sync", Object: "notebook:" + res.App + "/" + res.Name,
		Message: "stored from container " + display(c), Details: map[string]any{
			"container": display(c), "from": "container", "source": res.Current.Source, "author": res.Current.Author, "owner": res.Owner, "sharing": res.Sharing, "version": res.Current.Version,
			"digest": res.Current.Digest, "size": res.Current.Size, "format": res.Current.Format, "created": res.Created}})
	return nil
}

// restore places the newest version of each notebook p owns in p's app
// into the container, where it lacks it or holds an older version's
// content (content in no version is an edit the sync could not store, and
// is left alone).
func (s *Syncer) restore(ctx context.Context, c store.Container, p *access.Principal, ag Agent, have map[string]string, rep *Report) error {
	ns, err := s.o.Notebooks.List(ctx, p)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.Owner != p.User || n.App != p.App || n.Current.Version == 0 {
			continue
		}
		file := notebooks.FileName(n.Name, n.Current.Format)
		want := strings.TrimPrefix(n.Current.Digest, "sha256:")
		if sha, ok := have[file]; ok {
			if sha == want {
				continue
			}
			_, vs, err := s.o.Notebooks.History(ctx, p, n.Name)
			if err != nil {
				return err
			}
			if !inHistory(vs, sha) {
				continue
			}
		}
		_, v, content, err := s.o.Notebooks.Content(ctx, p, n.Name, 0)
		if err != nil {
			return err
		}
		fi, err := ag.PutNotebook(ctx, file, content)
		if err != nil {
			return fmt.Errorf("restoring %s: %w", file, err)
		}
		if fi.SHA256 != "" && "sha256:"+fi.SHA256 != v.Digest {
			return errdefs.Unavailablef("restoring %s: the container stored different content (sha256 %s, want %s)", file, fi.SHA256, v.Digest)
		}
		rep.Restored = append(rep.Restored, display(c)+": "+file)
		s.o.Log.Info("notebook restored into container", "container", display(c), "notebook", n.Name, "version", v.Version, "owner", p.User)
		s.record(ctx, audit.Event{User: p.User, App: n.App, Action: "notebook.restore", Object: "notebook:" + n.App + "/" + n.Name,
			Message: "placed into container " + display(c), Details: map[string]any{
				"container": display(c), "version": v.Version, "digest": v.Digest, "format": v.Format}})
	}
	return nil
}

// record writes an audit event; a failure is logged loudly.
func (s *Syncer) record(ctx context.Context, e audit.Event) {
	if e.Result == "" {
		e.Result = audit.ResultSuccess
	}
	if s.o.Audit == nil {
		return
	}
	if err := s.o.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.o.Log.Error("audit event not recorded", "action", e.Action, "err", err)
	}
}
