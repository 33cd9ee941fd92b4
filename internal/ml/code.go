package ml

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/ml/algos"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/notebooks"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/store"
)

// Notebooks is what the model commands need of the notebook store
// (notebooks.Service implements it).
type Notebooks interface {
	// Content returns a version (0: the newest) of the notebook name means
	// to p, and its bytes.
	Content(ctx context.Context, p *access.Principal, name string, version int) (notebooks.Info, store.NotebookVersion, []byte, error)
	// ContentByDigest returns the content with digest, verified.
	ContentByDigest(ctx context.Context, digest string) ([]byte, error)
}

// code is the exact notebook version a job runs. It is placed into the
// container as a pinned notebook named by its SHA-256 (apart from the
// notebooks directory, see agent/pinned.go), and the agent's runner runs
// that file only if its content still has that SHA-256. So what a fit
// records is what ran, and an apply runs what the fit recorded, however
// the container's notebooks directory changes meanwhile and however many
// jobs run at once.
type code struct {
	name    string // the notebook's name: the module name and save name prefix
	v       store.NotebookVersion
	content []byte
}

func (c code) sha() string { return strings.TrimPrefix(c.v.Digest, "sha256:") }

// fitCode is the newest version of the notebook name as p resolves it
// (p's own, else one shared with p in the app or globally).
func (s *Service) fitCode(ctx context.Context, p *access.Principal, name string) (code, error) {
	if s.o.Notebooks == nil {
		return code{}, errdefs.Unavailable("notebooks are not available on this server")
	}
	_, v, content, err := s.o.Notebooks.Content(ctx, p, name, 0)
	if err != nil {
		return code{}, err
	}
	if blob.FromBytes(content) != blob.Digest(v.Digest) {
		return code{}, errdefs.Unavailablef("notebook %s version %d: the stored content does not match its digest %s; it was changed, so it is not run", name, v.Version, v.Digest)
	}
	return code{name: name, v: v, content: content}, nil
}

// versionCode is the code the model version v runs in apply and summary.
// A version a fit on this server registered (its lineage pins the
// notebook) runs exactly the content its lineage records, fetched by
// digest for anyone who may read the model, whether or not they may read
// the notebook. Other versions (imported ones) run the newest version of
// the notebook v.Algo as p resolves it.
func (s *Service) versionCode(ctx context.Context, p *access.Principal, exact models.Ref, v models.Version, env *search.Env) (code, error) {
	l := v.Lineage
	if l.NotebookPinned && l.Notebook == algos.Notebook {
		c, ok := shippedByDigest(l.NotebookDigest)
		if !ok {
			return code{}, errdefs.Unavailablef("model %s version %d was trained by the MLTK algorithms notebook an earlier Dockyard shipped (%s); "+
				"this server ships %s, which is not run in its place: fit the model again", exact.Base(), v.Version, l.NotebookDigest, algos.Digest())
		}
		return c, nil
	}
	if !l.NotebookPinned {
		c, err := s.fitCode(ctx, p, v.Algo)
		if err == nil && l.NotebookDigest != "" && l.NotebookDigest != c.v.Digest && env != nil {
			env.Message("model %s version %d was imported: it runs notebook %s as you have it (digest %s), not the %s its lineage names",
				exact.Base(), v.Version, v.Algo, c.v.Digest, l.NotebookDigest)
		}
		return c, err
	}
	if s.o.Notebooks == nil {
		return code{}, errdefs.Unavailable("notebooks are not available on this server")
	}
	if l.NotebookFormat != "ipynb" && l.NotebookFormat != "py" {
		return code{}, errdefs.Invalidf("model %s version %d: its lineage names notebook format %q; want ipynb or py", exact.Base(), v.Version, l.NotebookFormat)
	}
	content, err := s.o.Notebooks.ContentByDigest(ctx, l.NotebookDigest)
	if err != nil {
		return code{}, fmt.Errorf("model %s version %d was trained by notebook %s version %d (%s), which cannot be run: %w",
			exact.Base(), v.Version, l.Notebook, l.NotebookVersion, l.NotebookDigest, err)
	}
	return code{name: v.Algo, content: content, v: store.NotebookVersion{
		NotebookID: l.NotebookID, Version: l.NotebookVersion, Format: l.NotebookFormat, Digest: l.NotebookDigest, Size: int64(len(content)),
	}}, nil
}

// place puts c into the container as a pinned notebook; the agent stores
// it only if its content has c's SHA-256.
func (s *Service) place(ctx context.Context, h *containers.Handle, c code) error {
	fi, err := h.Agent().PutPinnedNotebook(ctx, c.sha(), c.v.Format, c.content)
	if errdefs.IsNotFound(err) {
		// A 404 here is the endpoint: an agent older than this server.
		return errdefs.Unavailablef("notebook %s: container %s cannot run a pinned notebook version (its agent has no PUT /v1/pinned: %w); "+
			"restart it with this server's agent (`dockyard containers stop` and start it again), or update the image",
			c.name, containerName(h), err)
	}
	if err != nil {
		return fmt.Errorf("notebook %s (%s): placing it in container %s: %w", c.name, c.v.Digest, containerName(h), err)
	}
	if fi.SHA256 != c.sha() {
		return errdefs.Unavailablef("notebook %s: container %s stored content with SHA-256 %s, want %s", c.name, containerName(h), fi.SHA256, c.sha())
	}
	return nil
}
