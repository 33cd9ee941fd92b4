package images

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
)

// maxSignatureBytes bounds one signature payload read from a registry or
// an archive.
const maxSignatureBytes = 1 << 20

// SignatureTag is where cosign keeps the signatures of digest in repo:
// the tag sha256-<hex>.sig.
func SignatureTag(repo, digest string) (name.Tag, error) {
	return name.NewTag(repo+":"+strings.Replace(digest, ":", "-", 1)+".sig", name.StrictValidation)
}

// SignatureImage is the image cosign stores signatures in: one layer per
// signature holding the payload, its signature in an annotation.
func SignatureImage(sigs []Sig) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, s := range sigs {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:       static.NewLayer(s.Payload, signing.SimpleSigningMediaType),
			Annotations: map[string]string{signing.SignatureAnnotation: s.Signature},
		})
		if err != nil {
			return nil, err
		}
	}
	return img, nil
}

// ReadSignatureImage returns the signatures in a signature image; layers
// of other media types are skipped.
func ReadSignatureImage(img v1.Image) ([]Sig, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []Sig
	for _, d := range m.Layers {
		sig, ok := d.Annotations[signing.SignatureAnnotation]
		if !ok || d.MediaType != signing.SimpleSigningMediaType || d.Size > maxSignatureBytes {
			continue
		}
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed() // a static layer: its bytes as stored, checked against the digest
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxSignatureBytes))
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, Sig{Payload: b, Signature: sig})
	}
	return out, nil
}

// Signatures reads the signatures cosign stored for digest in repo; none
// when the registry has no signature tag.
func (g *ggcrRegistry) Signatures(ctx context.Context, repo, digest string) ([]Sig, error) {
	tag, err := SignatureTag(repo, digest)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	opts, err := g.options(ctx, tag.Context().RegistryStr())
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(tag, opts...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, registryError(tag.String(), tag.Context().RegistryStr(), err)
	}
	sigs, err := ReadSignatureImage(img)
	if err != nil {
		return nil, fmt.Errorf("reading the signatures %s: %w", tag, err)
	}
	return sigs, nil
}

// options are the go-containerregistry options for host.
func (g *ggcrRegistry) options(ctx context.Context, host string) ([]remote.Option, error) {
	opts := []remote.Option{remote.WithContext(ctx)}
	if g.opts != nil {
		more, err := g.opts(ctx, host)
		if err != nil {
			return nil, err
		}
		opts = append(opts, more...)
	}
	return opts, nil
}

// Image reads the image ref names (one platform's manifest).
func (g *ggcrRegistry) Image(ctx context.Context, ref string) (v1.Image, error) {
	r, err := ParseRemote(ref)
	if err != nil {
		return nil, err
	}
	host := r.Context().RegistryStr()
	opts, err := g.options(ctx, host)
	if err != nil {
		return nil, err
	}
	d, err := remote.Get(r, opts...)
	if err != nil {
		return nil, registryError(ref, host, err)
	}
	if d.MediaType.IsIndex() {
		return nil, errdefs.Invalidf("%s is a multi-platform image index: images save takes one platform's image; pin its manifest digest (HOST/REPO@sha256:...) with `dockyard images update NAME --ref`", ref)
	}
	return d.Image()
}

// Write pushes img to ref (HOST/REPO:TAG).
func (g *ggcrRegistry) Write(ctx context.Context, ref string, img v1.Image) error {
	r, err := ParseRemote(ref)
	if err != nil {
		return err
	}
	host := r.Context().RegistryStr()
	opts, err := g.options(ctx, host)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, opts...); err != nil {
		return registryError(ref, host, err)
	}
	return nil
}
