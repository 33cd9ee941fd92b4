// Package notebooks keeps the notebooks that fits run: knowledge objects
// (owner, app, sharing, read and write roles; private to the pusher in the
// current app by default, like models) with a history of immutable
// versions whose content lives in the blob store.
//
// Someone who may not read a notebook gets "notebook not found: NAME",
// never a hint that it exists.
package notebooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// Service manages notebooks. Its methods take the caller explicitly (a
// container's sync acts for the container's owner, not for a request), and
// decide ownership, sharing, resolution and auditing through the
// knowledge package, as models and lookups do.
type Service struct {
	st    store.NotebookStore
	blobs blob.Store
	ko    *knowledge.Kind
	log   *slog.Logger
	now   func() time.Time
}

// New returns a notebook service; it audits nothing until SetRecorder.
func New(st store.NotebookStore, blobs blob.Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ko := knowledge.NewKind(knowledge.Kind{Noun: "notebook", ValidateName: ValidateName, NotFoundHint: notFoundHint}, nil, log)
	return &Service{st: st, blobs: blobs, ko: ko, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// SetRecorder makes the service audit every change (push, share, delete)
// and every refusal to rec.
func (s *Service) SetRecorder(rec audit.Recorder) { s.ko.SetRecorder(rec) }

// object is a notebook as the knowledge package sees it.
func object(n store.Notebook) knowledge.Object {
	return knowledge.Object{ID: n.ID, Name: n.Name, ACL: ACL(n)}
}

// Version is one stored version of a notebook: the store's record (an
// alias), named here so that the API needs no import of the store.
type Version = store.NotebookVersion

// Info is a notebook with its newest version (zero before the first).
type Info struct {
	store.Notebook
	Current Version
}

// ACL is the notebook's permission record.
func ACL(n store.Notebook) access.ACL {
	return access.ACL{Owner: n.Owner, App: n.App, Sharing: access.Sharing(n.Sharing), Read: n.Read, Write: n.Write}
}

// PushRequest is a notebook to store. Sharing is used only when the push
// creates the notebook ("" means user: private to the pusher).
type PushRequest struct {
	Name    string
	Format  string // ipynb | py
	Content []byte
	Sharing access.Sharing
	// Source is recorded with a new version: "" for a push through the
	// API, "container:NAME" for the notebook sync.
	Source string
}

// PushResult says what a push did. Changed is false when the content was
// the newest version's already, and no version was added.
type PushResult struct {
	Info
	Changed bool
	Created bool
}

func notFoundHint(name string) string {
	return fmt.Sprintf("push it with `dockyard notebooks push FILE.ipynb --name %s` (or ask its owner to share it)", name)
}

// Push validates the content and stores it as the notebook's next version
// when it differs from the newest one. The notebook is the caller's own in
// the current app, or a shared one there the caller may write; else a new
// notebook is created (private unless req.Sharing says otherwise, which
// needs write on the app). A shared notebook the caller cannot read never
// changes the answer.
func (s *Service) Push(ctx context.Context, p *access.Principal, req PushRequest) (PushResult, error) {
	if p == nil {
		return PushResult{}, errdefs.Unauthenticated("pushing a notebook needs a logged-in user")
	}
	if err := ValidateName(req.Name); err != nil {
		return PushResult{}, err
	}
	if err := Validate(FileName(req.Name, req.Format), req.Format, req.Content); err != nil {
		return PushResult{}, err
	}
	if _, err := access.ParseSharing(string(req.Sharing)); req.Sharing != "" && err != nil {
		return PushResult{}, err
	}
	// Asked before the name is resolved: the answer is the same whether
	// or not a notebook of that name exists, and nothing is stored.
	if err := checkPublish(p, req.Name, req.Sharing); err != nil {
		return PushResult{}, s.ko.Denied(ctx, p, "notebook.push", object(store.Notebook{Name: req.Name, App: p.App, Owner: p.User, Sharing: string(req.Sharing)}), err.Error())
	}
	d, size, err := s.blobs.Put(ctx, bytes.NewReader(req.Content))
	if err != nil {
		return PushResult{}, fmt.Errorf("notebook %q: storing its content: %w", req.Name, err)
	}
	// The content is stored first (a blob nobody references is collected);
	// the notebook, its version and the audit event commit together.
	return store.Run(ctx, s.st, func(ctx context.Context) (PushResult, error) {
		var res PushResult
		n, cands, err := s.resolve(ctx, p, req.Name, true)
		switch {
		case errdefs.IsNotFound(err) && !access.IsAppNotFound(err):
			if n, err = s.create(ctx, p, req, cands); err != nil {
				return PushResult{}, err
			}
			res.Created = true
		case err != nil:
			return PushResult{}, err
		}
		res.Notebook = n
		if !res.Created {
			if cur, err := s.latest(ctx, n); err != nil {
				return PushResult{}, err
			} else if cur.Version > 0 && cur.Digest == string(d) && cur.Format == req.Format {
				res.Current = cur
				return res, nil
			}
		}
		v, err := s.st.AddNotebookVersion(ctx, n.ID, store.NotebookVersion{Format: req.Format, Digest: string(d), Size: size, Author: p.User, Source: req.Source, Created: s.now()})
		if err != nil {
			return PushResult{}, err
		}
		res.Current, res.Changed = v, true
		res.Latest = v.Version
		s.ko.Record(ctx, p, "notebook.push", object(n), audit.ResultSuccess, "", map[string]any{
			"version": v.Version, "digest": v.Digest, "size": v.Size, "format": v.Format, "created": res.Created})
		return res, nil
	})
}

// create makes the notebook req names for p in p's app.
func (s *Service) create(ctx context.Context, p *access.Principal, req PushRequest, cands []store.Notebook) (store.Notebook, error) {
	app, err := knowledge.ContextApp(p, "")
	if err != nil {
		return store.Notebook{}, err
	}
	sharing := req.Sharing
	if sharing == "" {
		sharing = access.SharingUser
	}
	if _, err := access.ParseSharing(string(sharing)); err != nil {
		return store.Notebook{}, err
	}
	n := store.Notebook{Name: req.Name, App: app, Owner: p.User, Sharing: string(sharing), Created: s.now()}
	if err := s.ko.AuthorizeSharing(ctx, p, "notebook.push", object(n), sharing); err != nil {
		return store.Notebook{}, err
	}
	if err := knowledge.Collide(s.ko, p, object(n), sharing, cands, object); err != nil {
		return store.Notebook{}, err
	}
	n, err = s.st.CreateNotebook(ctx, n)
	if errdefs.IsConflict(err) {
		return store.Notebook{}, errdefs.Conflictf("you already have a notebook %q in app %s that you may not write at %s level: push it under another --name", req.Name, app, sharing)
	}
	return n, err
}

func (s *Service) latest(ctx context.Context, n store.Notebook) (store.NotebookVersion, error) {
	if n.Latest == 0 {
		return store.NotebookVersion{}, nil
	}
	vs, err := s.st.NotebookVersions(ctx, n.ID)
	if err != nil {
		return store.NotebookVersion{}, err
	}
	if len(vs) == 0 {
		return store.NotebookVersion{}, nil
	}
	return vs[len(vs)-1], nil
}

// resolve finds the notebook name means to p (readable, or writable when
// write is set) and returns every notebook of that name too; not readable
// and absent look the same.
func (s *Service) resolve(ctx context.Context, p *access.Principal, name string, write bool) (store.Notebook, []store.Notebook, error) {
	if err := ValidateName(name); err != nil {
		return store.Notebook{}, nil, err
	}
	app, err := knowledge.ContextApp(p, "")
	if err != nil {
		return store.Notebook{}, nil, err
	}
	ns, err := s.st.FindNotebooks(ctx, name)
	if err != nil {
		return store.Notebook{}, nil, err
	}
	best, err := knowledge.Find(s.ko, p, knowledge.Query{App: app, Name: name, Write: write}, ns, object)
	return best, ns, err
}

// Get returns the notebook name means to p with its newest version.
func (s *Service) Get(ctx context.Context, p *access.Principal, name string) (Info, error) {
	n, _, err := s.resolve(ctx, p, name, false)
	if err != nil {
		return Info{}, err
	}
	cur, err := s.latest(ctx, n)
	if err != nil {
		return Info{}, err
	}
	return Info{Notebook: n, Current: cur}, nil
}

// List returns every notebook p may read, with its newest version.
func (s *Service) List(ctx context.Context, p *access.Principal) ([]Info, error) {
	ns, err := s.st.ListNotebooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []Info{}
	for _, n := range ns {
		if !p.CanRead(ACL(n)) {
			continue
		}
		cur, err := s.latest(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, Info{Notebook: n, Current: cur})
	}
	return out, nil
}

// History returns the versions of the notebook name means to p, oldest
// first.
func (s *Service) History(ctx context.Context, p *access.Principal, name string) (Info, []store.NotebookVersion, error) {
	n, _, err := s.resolve(ctx, p, name, false)
	if err != nil {
		return Info{}, nil, err
	}
	vs, err := s.st.NotebookVersions(ctx, n.ID)
	if err != nil {
		return Info{}, nil, err
	}
	info := Info{Notebook: n}
	if len(vs) > 0 {
		info.Current = vs[len(vs)-1]
	}
	return info, vs, nil
}

// Content returns a version (0: the newest) of the notebook name means to
// p, and its bytes.
func (s *Service) Content(ctx context.Context, p *access.Principal, name string, version int) (Info, store.NotebookVersion, []byte, error) {
	info, vs, err := s.History(ctx, p, name)
	if err != nil {
		return Info{}, store.NotebookVersion{}, nil, err
	}
	if len(vs) == 0 {
		return Info{}, store.NotebookVersion{}, nil, errdefs.NotFoundf("notebook %s has no version yet: push it with `dockyard notebooks push`", name)
	}
	v := vs[len(vs)-1]
	if version != 0 {
		if version < 0 || version > len(vs) || vs[version-1].Version != version {
			return Info{}, store.NotebookVersion{}, nil, errdefs.NotFoundf("notebook %s has no version %d: see `dockyard notebooks history %s`", name, version, name)
		}
		v = vs[version-1]
	}
	d, err := blob.ParseDigest(v.Digest)
	if err != nil {
		return Info{}, store.NotebookVersion{}, nil, err
	}
	rc, err := s.blobs.Open(ctx, d)
	if err != nil {
		return Info{}, store.NotebookVersion{}, nil, fmt.Errorf("notebook %s version %d: %w", name, v.Version, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxSize+1))
	if err != nil {
		return Info{}, store.NotebookVersion{}, nil, fmt.Errorf("notebook %s version %d: %w", name, v.Version, err)
	}
	return info, v, b, nil
}
