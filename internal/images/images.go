// Package images keeps the catalogue of container images Dockyard knows:
// the default image of each runtime and the images container records use,
// each with its digest where one can be computed. For the process runtime
// the "image" is the dockyard binary that runs as the agent, and its digest
// is the SHA-256 of that executable, so a model's lineage pins exactly the
// code that trained it. Registry credentials, policy and scan results belong
// here too as they are built.
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

	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// Image is one catalogue entry.
type Image struct {
	Name       string `json:"name"`
	Runtime    string `json:"runtime"`
	Digest     string `json:"digest,omitempty"`
	Default    bool   `json:"default"`
	Containers int    `json:"containers"` // container records that use it
}

// Options configure a Catalogue.
type Options struct {
	DefaultImage   string
	DefaultRuntime string
	// ProcessExecutable is the program the process runtime runs as its
	// agent (its digest is the process image's digest).
	ProcessExecutable string
	// Containers lists the container records.
	Containers func(ctx context.Context) ([]store.Container, error)
	// Digesters name the digests of images of other runtimes, by runtime.
	Digesters map[string]runtime.ImageDigester
}

// Catalogue lists images.
type Catalogue struct {
	o Options

	once       sync.Once
	procDigest string
	procErr    error
}

// New returns a catalogue.
func New(o Options) *Catalogue { return &Catalogue{o: o} }

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

// digestTimeout bounds asking a runtime for an image's digest.
const digestTimeout = 5 * time.Second

// Digest returns the digest of image on a runtime, or "" when it cannot be
// known (a runtime that cannot say, an image it does not have).
func (c *Catalogue) Digest(rt, image string) string {
	if rt == "process" {
		d, _ := c.ProcessDigest()
		return d
	}
	dg, ok := c.o.Digesters[rt]
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), digestTimeout)
	defer cancel()
	d, err := dg.ImageDigest(ctx, image)
	if err != nil {
		return ""
	}
	return d
}

// List returns the default image and every image a container record uses,
// sorted by runtime and name.
func (c *Catalogue) List(ctx context.Context) ([]Image, error) {
	type key struct{ runtime, name string }
	byKey := map[key]*Image{}
	add := func(runtime, name string) *Image {
		k := key{runtime, name}
		if im, ok := byKey[k]; ok {
			return im
		}
		im := &Image{Name: name, Runtime: runtime, Digest: c.Digest(runtime, name)}
		byKey[k] = im
		return im
	}
	add(c.o.DefaultRuntime, c.o.DefaultImage).Default = true
	if c.o.Containers != nil {
		cs, err := c.o.Containers(ctx)
		if err != nil {
			return nil, err
		}
		for _, ct := range cs {
			if ct.Image == "" {
				continue
			}
			add(ct.Runtime, ct.Image).Containers++
		}
	}
	out := make([]Image, 0, len(byKey))
	for _, im := range byKey {
		out = append(out, *im)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Runtime != out[j].Runtime {
			return out[i].Runtime < out[j].Runtime
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
