package images

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
)

// Pinned is what a container start runs: the entry's runtime and the
// reference that names exactly its pinned content.
type Pinned struct {
	Name    string // the entry
	Runtime string
	Ref     string // what the runtime is given: repo@sha256:..., an image id, or ProcessImage
	Digest  string
	GPU     bool
	Policy  string // the policy's decision, for the start's audit event
	// Pull makes the content present on the runtime's host (a registry
	// image the engine has not pulled yet), with the registry's
	// credentials; nil when there is nothing to pull. The start calls it
	// once it is authorised, before creating the container.
	Pull func(ctx context.Context) error
	// Cert is the operator certificate pair the entry's agents serve
	// ("" for one the server CA issues).
	Cert string
}

// Pin returns what starting a container from the entry called name runs.
// A process-runtime entry added by an administrator pinned the dockyard
// executable as it was then: when the executable has changed since, Pin
// refuses until the entry is re-pinned, as a moved tag would.
func (c *Catalogue) Pin(ctx context.Context, name string) (Pinned, error) {
	e, err := c.Get(ctx, name)
	if err != nil {
		return Pinned{}, err
	}
	if e.Runtime == RuntimeProcess {
		now, err := c.ProcessDigest()
		if err != nil {
			return Pinned{}, fmt.Errorf("image %q: %w", name, err)
		}
		if name != ProcessImage && now != e.Digest {
			return Pinned{}, errdefs.Conflictf("image %q pinned the dockyard executable %s, which is now %s: an administrator re-pins it with `dockyard images update %s`",
				name, e.Digest, now, name)
		}
		e.Digest = now
	}
	if e.RunRef == "" || e.Digest == "" {
		return Pinned{}, errdefs.Conflictf("image %q has no pinned digest: an administrator re-pins it with `dockyard images update %s`", name, name)
	}
	decision, err := c.gate(ctx, e)
	if err != nil {
		return Pinned{}, err
	}
	p := Pinned{Name: e.Name, Runtime: e.Runtime, Ref: e.RunRef, Digest: e.Digest, GPU: e.GPU, Policy: decision, Cert: e.Cert}
	if _, ok := c.o.Pullers[e.Runtime]; ok && e.Source == SourceRegistry {
		p.Pull = func(ctx context.Context) error { return c.pull(ctx, e) }
	}
	return p, nil
}

// pull makes a registry entry's pinned content present on its runtime's
// host, with the registry's credentials.
func (c *Catalogue) pull(ctx context.Context, e Entry) error {
	p := c.o.Pullers[e.Runtime]
	r, err := ParseRemote(e.RunRef)
	if err != nil {
		return fmt.Errorf("image %q: %w", e.Name, err)
	}
	var auth *runtime.RegistryAuth
	if c.o.Credentials != nil {
		if auth, err = c.o.Credentials(ctx, r.Context().RegistryStr()); err != nil {
			return fmt.Errorf("image %q: %w", e.Name, err)
		}
	}
	if err := p.PullImage(ctx, e.RunRef, auth); err != nil {
		return fmt.Errorf("image %q: %w", e.Name, err)
	}
	return nil
}
