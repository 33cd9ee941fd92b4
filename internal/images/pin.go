package images

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Pinned is what a container start runs: the entry's runtime and the
// reference that names exactly its pinned content.
type Pinned struct {
	Name    string // the entry
	Runtime string
	Ref     string // what the runtime is given: repo@sha256:..., an image id, or ProcessImage
	Digest  string
	GPU     bool
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
			return Pinned{}, errdefs.Conflict(fmt.Sprintf("image %q pinned the dockyard executable %s, which is now %s: an administrator re-pins it with `dockyard images update %s`",
				name, e.Digest, now, name))
		}
		e.Digest = now
	}
	if e.RunRef == "" || e.Digest == "" {
		return Pinned{}, errdefs.Conflict(fmt.Sprintf("image %q has no pinned digest: an administrator re-pins it with `dockyard images update %s`", name, name))
	}
	return Pinned{Name: e.Name, Runtime: e.Runtime, Ref: e.RunRef, Digest: e.Digest, GPU: e.GPU}, nil
}
