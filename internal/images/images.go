// Package images keeps the image catalogue: the images containers may
// start from, each an entry an administrator added by name with a
// reference that was resolved to a digest and pinned (an image id from the
// Docker Engine for a local image, a manifest digest from the registry for
// a remote one). Containers start only from entries, and always from the
// pinned content, so a tag that moves later changes nothing until the
// entry is re-pinned (Update).
//
// One entry is built in: ProcessImage, the process runtime's "image", the
// dockyard executable that runs as the agent, whose digest is the SHA-256
// of that file, so a model's lineage pins exactly the code that trained it.
package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

// ProcessImage is the built-in entry of the process runtime: the dockyard
// executable itself.
const ProcessImage = "dockyard/process"

// Runtimes an entry may name.
const (
	RuntimeDocker  = "docker"
	RuntimeProcess = "process"
	// RuntimeKubernetes entries are registry images the cluster's kubelets
	// pull (with the registry's credentials as an imagePullSecret).
	RuntimeKubernetes = "kubernetes"
)

// Sources of a pinned digest.
const (
	SourceRegistry   = "registry"   // a registry's manifest digest
	SourceEngine     = "engine"     // the Docker Engine's image id
	SourceExecutable = "executable" // the SHA-256 of the dockyard executable
)

// Entry is a catalogue entry as the service's callers see it (the store's
// record, named here so that the API needs no import of the store).
type Entry = store.Image

// Exception lets one CVE of an entry pass the policy until a time.
type Exception = store.ImageException

// Image is an entry as listed: the entry, whether it is built in or the
// default, and how many container records use it.
type Image struct {
	Entry
	Builtin    bool
	Default    bool
	Containers int
}

// Options configure a Catalogue.
type Options struct {
	// Store keeps the entries; nil leaves only the built-in one.
	Store store.ImageStore
	// Scans keeps scan reports and policy exceptions, Settings the
	// policy; nil Settings is no policy.
	Scans    store.ImageScanStore
	Settings store.SettingsStore
	// Signing keeps the trusted image keys and the entries' signatures;
	// nil refuses every start under a policy that requires a signature.
	Signing store.SigningStore
	// DefaultImage is the entry a start that names none uses
	// (containers.default_image).
	DefaultImage string
	// ProcessExecutable is the program the process runtime runs as its
	// agent (its digest is the process image's digest).
	ProcessExecutable string
	// Containers lists the container records.
	Containers func(ctx context.Context) ([]store.Container, error)
	// Engines look up images local to a runtime, by runtime ("docker").
	Engines map[string]runtime.ImageDigester
	// Registry resolves references of images in registries; nil uses
	// anonymous access with the system's roots (NewRegistry).
	Registry Registry
	// Pullers pull registry images onto a runtime's host before a start,
	// by runtime ("docker"), with the credentials Credentials gives.
	Pullers     map[string]runtime.ImagePuller
	Credentials func(ctx context.Context, host string) (*runtime.RegistryAuth, error)
	// CheckCert checks the operator certificate pair an entry names for
	// agents of the entry's runtime (containers.certs_dir); nil refuses
	// every entry that names one.
	CheckCert func(name, runtime string) error
	// Scanner runs on every docker entry added or re-pinned
	// (images.scanner_command); a zero one runs nothing.
	Scanner Scanner
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Catalogue is the image catalogue.
type Catalogue struct {
	o    Options
	keys *signing.Keys

	once       sync.Once
	procDigest string
	procErr    error
}

// New returns a catalogue.
func New(o Options) *Catalogue {
	if o.Registry == nil {
		o.Registry = NewRegistry(nil)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Catalogue{o: o}
	if o.Signing != nil {
		c.keys = signing.NewKeys(o.Signing, store.KeyPurposeImage)
	}
	return c
}

// Now is the catalogue's clock: what expiries are measured against.
func (c *Catalogue) Now() time.Time { return c.o.Now() }

// InTx runs fn in one transaction of the catalogue's store; an audit event
// recorded with fn's context joins it.
func (c *Catalogue) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if c.o.Store == nil {
		return fn(ctx)
	}
	return c.o.Store.InTx(ctx, fn)
}

// ProcessDigest is the digest of the process runtime's agent executable.
func (c *Catalogue) ProcessDigest() (string, error) {
	c.once.Do(func() { c.procDigest, c.procErr = fileDigest(c.o.ProcessExecutable) })
	return c.procDigest, c.procErr
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("process image: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("process image %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// builtin is the process runtime's entry.
func (c *Catalogue) builtin() store.Image {
	d, _ := c.ProcessDigest()
	return store.Image{Name: ProcessImage, Ref: "dockyard executable", Digest: d, RunRef: ProcessImage,
		Source: SourceExecutable, Title: "The dockyard executable as a child process (process runtime)",
		Runtime: RuntimeProcess, CreatedBy: "system"}
}

// Get returns the entry called name (the built-in one included), or an
// errdefs.ErrNotFound error that says how to list and add entries.
func (c *Catalogue) Get(ctx context.Context, name string) (Entry, error) {
	if name == ProcessImage {
		return c.builtin(), nil
	}
	if c.o.Store != nil {
		e, err := c.o.Store.GetImage(ctx, name)
		if !errdefs.IsNotFound(err) {
			return e, err
		}
	}
	return Entry{}, notInCatalogue(name)
}

func notInCatalogue(name string) error {
	return fmt.Errorf("image %q is not in the catalogue: see `dockyard images list`; an administrator adds it with `dockyard images add %s --ref REF`: %w",
		name, name, errdefs.ErrNotFound)
}

// Digest returns the pinned digest of the entry named image, or "" when
// there is none (ml records it in a model's lineage). rt is the runtime
// the container ran on; an entry of another runtime has no digest there.
func (c *Catalogue) Digest(rt, image string) string {
	ctx, cancel := context.WithTimeout(context.Background(), digestTimeout)
	defer cancel()
	e, err := c.Get(ctx, image)
	if err != nil || e.Runtime != rt {
		return ""
	}
	return e.Digest
}

// digestTimeout bounds a catalogue read for a lineage record.
const digestTimeout = 5 * time.Second

// List returns every entry, the built-in one first, then by name.
func (c *Catalogue) List(ctx context.Context) ([]Image, error) {
	entries := []store.Image{c.builtin()}
	if c.o.Store != nil {
		stored, err := c.o.Store.ListImages(ctx)
		if err != nil {
			return nil, err
		}
		entries = append(entries, stored...)
	}
	uses := map[string]int{}
	if c.o.Containers != nil {
		cs, err := c.o.Containers(ctx)
		if err != nil {
			return nil, err
		}
		for _, ct := range cs {
			uses[ct.Image]++
		}
	}
	out := make([]Image, 0, len(entries))
	for _, e := range entries {
		out = append(out, Image{Entry: e, Builtin: e.Name == ProcessImage, Default: e.Name == c.o.DefaultImage, Containers: uses[e.Name]})
	}
	sort.SliceStable(out[1:], func(i, j int) bool { return out[1+i].Name < out[1+j].Name })
	return out, nil
}
