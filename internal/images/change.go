package images

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// AddRequest adds an entry. Runtime "" is docker; Ref is required for
// docker and must be empty for process (whose image is the dockyard
// executable).
type AddRequest struct {
	Name    string
	Ref     string
	Title   string
	Runtime string
	GPU     bool
	Cert    string // an operator certificate pair (containers.certs_dir)
}

// UpdateRequest changes an entry: nil fields stay. Every update resolves
// the reference (the new one, or the entry's) again and pins what it names
// now.
type UpdateRequest struct {
	Ref   *string
	Title *string
	GPU   *bool
	Cert  *string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$`)

// CheckName checks an entry's name.
func CheckName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "//") || strings.HasSuffix(name, "/") {
		return errdefs.Invalidf("image name %q: use 1 to 128 letters, digits, '.', '_', '-' and '/', starting with a letter or digit (a name such as golden-cpu, not a reference: give the reference with --ref)", name)
	}
	return nil
}

// NewEntry checks req and resolves its reference to the digest it names
// now, returning the entry to Create. It does the slow work (a registry
// or engine round trip) and must run outside a transaction.
func (c *Catalogue) NewEntry(ctx context.Context, user string, req AddRequest) (Entry, error) {
	if err := CheckName(req.Name); err != nil {
		return Entry{}, err
	}
	if req.Name == ProcessImage {
		return Entry{}, errdefs.Conflictf("image %q is built in: it is the dockyard executable and needs no adding", req.Name)
	}
	if req.Runtime == "" {
		req.Runtime = RuntimeDocker
	}
	e := Entry{Name: req.Name, Ref: strings.TrimSpace(req.Ref), Title: req.Title, GPU: req.GPU, Runtime: req.Runtime,
		CreatedBy: user, Created: c.o.Now().UTC(), UpdatedBy: user}
	e.Updated = e.Created
	e.Cert = strings.TrimSpace(req.Cert)
	if err := c.pin(ctx, &e); err != nil {
		return Entry{}, err
	}
	if err := c.checkCert(e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// pin resolves e.Ref on e.Runtime and sets the digest, what to run and
// its source.
func (c *Catalogue) pin(ctx context.Context, e *Entry) error {
	switch e.Runtime {
	case RuntimeProcess:
		if e.Ref != "" {
			return errdefs.Invalidf("image %q: the process runtime runs the dockyard executable, not an image: leave out --ref", e.Name)
		}
		d, err := c.ProcessDigest()
		if err != nil {
			return errdefs.Unavailablef("image %q: %w", e.Name, err)
		}
		e.Digest, e.RunRef, e.Source = d, e.Name, SourceExecutable
		return nil
	case RuntimeDocker:
	case RuntimeKubernetes:
		if !IsRemote(e.Ref) {
			return errdefs.Invalidf("image %q: a kubernetes image comes from a registry the cluster pulls from: give --ref HOST[:PORT]/REPO:TAG", e.Name)
		}
	default:
		return errdefs.Invalidf("image %q: runtime %q is not one an image runs on: use docker, kubernetes or process", e.Name, e.Runtime)
	}
	if e.Ref == "" {
		return errdefs.Invalidf("image %q needs --ref: a registry reference (HOST[:PORT]/REPO:TAG) or an image on the Docker host (docker images)", e.Name)
	}
	if IsRemote(e.Ref) {
		repo, d, err := c.o.Registry.Resolve(ctx, e.Ref)
		if err != nil {
			return err
		}
		e.Digest, e.RunRef, e.Source = d, repo+"@"+d, SourceRegistry
		return nil
	}
	engine, ok := c.o.Engines[e.Runtime]
	if !ok {
		return errdefs.Invalidf("image %q: %q names no registry host and this server has no Docker runtime to look it up in: give HOST[:PORT]/REPO:TAG, or enable the docker runtime", e.Name, e.Ref)
	}
	d, err := engine.ImageDigest(ctx, e.Ref)
	if errdefs.IsNotFound(err) {
		return errdefs.NotFoundf("image %q: %q is not on the Docker host: build or load it there first (docker images), or give a registry reference HOST[:PORT]/REPO:TAG", e.Name, e.Ref)
	}
	if err != nil {
		return fmt.Errorf("image %q: looking up %q on the Docker host: %w", e.Name, e.Ref, err)
	}
	// The engine runs an image id as exactly that content.
	e.Digest, e.RunRef, e.Source = d, d, SourceEngine
	return nil
}

// Create stores a new entry made by NewEntry.
func (c *Catalogue) Create(ctx context.Context, e Entry) error {
	if c.o.Store == nil {
		return errdefs.Unavailable("the image catalogue has no store")
	}
	err := c.o.Store.CreateImage(ctx, e)
	if errdefs.IsConflict(err) {
		return errdefs.Conflictf("image %q is already in the catalogue: re-pin it with `dockyard images update %s`, or choose another name", e.Name, e.Name)
	}
	return err
}

// Repin applies req to the entry called name and resolves its reference
// again, returning the entry before and the one to Save. Like NewEntry it
// runs outside a transaction.
func (c *Catalogue) Repin(ctx context.Context, user, name string, req UpdateRequest) (before, after Entry, err error) {
	if name == ProcessImage {
		return Entry{}, Entry{}, errdefs.Invalidf("image %q is built in: its digest is always the running dockyard executable's", name)
	}
	before, err = c.Get(ctx, name)
	if err != nil {
		return Entry{}, Entry{}, err
	}
	after = before
	if req.Ref != nil {
		after.Ref = strings.TrimSpace(*req.Ref)
	}
	if req.Title != nil {
		after.Title = *req.Title
	}
	if req.GPU != nil {
		after.GPU = *req.GPU
	}
	if req.Cert != nil {
		after.Cert = strings.TrimSpace(*req.Cert)
	}
	if err := c.pin(ctx, &after); err != nil {
		return Entry{}, Entry{}, err
	}
	if err := c.checkCert(after); err != nil {
		return Entry{}, Entry{}, err
	}
	after.UpdatedBy, after.Updated = user, c.o.Now().UTC()
	return before, after, nil
}

// Save stores an entry made by Repin.
func (c *Catalogue) Save(ctx context.Context, e Entry) error {
	if err := c.o.Store.UpdateImage(ctx, e); errdefs.IsNotFound(err) {
		return notInCatalogue(e.Name)
	} else if err != nil {
		return err
	}
	return nil
}

// Remove deletes the entry called name. The built-in entry, the default
// image and an entry container records use are kept, saying why.
func (c *Catalogue) Remove(ctx context.Context, name string) (Entry, error) {
	if name == ProcessImage {
		return Entry{}, errdefs.Invalidf("image %q is built in and cannot be removed", name)
	}
	if name == c.o.DefaultImage {
		return Entry{}, errdefs.Conflictf("image %q is the default image (containers.default_image): change the setting first", name)
	}
	e, err := c.Get(ctx, name)
	if err != nil {
		return Entry{}, err
	}
	if c.o.Containers != nil {
		cs, err := c.o.Containers(ctx)
		if err != nil {
			return Entry{}, err
		}
		var users []string
		for _, ct := range cs {
			if ct.Image == name {
				users = append(users, displayName(ct))
			}
		}
		if len(users) > 0 {
			return Entry{}, errdefs.Conflictf("image %q is used by %d containers (%s): remove them first (`dockyard containers remove NAME`)",
				name, len(users), strings.Join(users, ", "))
		}
	}
	if err := c.o.Store.DeleteImage(ctx, name); errdefs.IsNotFound(err) {
		return Entry{}, notInCatalogue(name)
	} else if err != nil {
		return Entry{}, err
	}
	return e, nil
}

func displayName(c store.Container) string {
	if c.Scope != "" {
		return c.Scope + "/" + c.Name
	}
	return c.Name
}
