package images

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Registry reads what a reference names in its registry.
type Registry interface {
	// Resolve returns the repository (HOST/REPO) of ref and the digest of
	// the manifest ref names now.
	Resolve(ctx context.Context, ref string) (repo, digest string, err error)
}

// HostOptions returns the go-containerregistry options (credentials,
// transport) for a registry host.
type HostOptions func(ctx context.Context, host string) ([]remote.Option, error)

// NewRegistry returns a Registry that reads manifests with
// go-containerregistry, with the options opts gives each host (nil:
// anonymous, the system's roots).
func NewRegistry(opts HostOptions) Registry { return &ggcrRegistry{opts: opts} }

type ggcrRegistry struct{ opts HostOptions }

// resolveTimeout bounds one resolution.
const resolveTimeout = 30 * time.Second

func (g *ggcrRegistry) Resolve(ctx context.Context, ref string) (string, string, error) {
	r, err := ParseRemote(ref)
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	host := r.Context().RegistryStr()
	opts := []remote.Option{remote.WithContext(ctx)}
	if g.opts != nil {
		more, err := g.opts(ctx, host)
		if err != nil {
			return "", "", err
		}
		opts = append(opts, more...)
	}
	desc, err := remote.Head(r, opts...)
	if err != nil && !isAuthError(err) && !isNotFound(err) {
		// Some registries answer no HEAD for manifests: read it.
		var d *remote.Descriptor
		if d, err = remote.Get(r, opts...); err == nil {
			desc = &d.Descriptor
		}
	}
	if err != nil {
		return "", "", registryError(ref, host, err)
	}
	return r.Context().Name(), desc.Digest.String(), nil
}

func isAuthError(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden)
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// registryError says what went wrong reading ref and what to do.
func registryError(ref, host string, err error) error {
	var te *transport.Error
	errors.As(err, &te)
	switch {
	case isAuthError(err):
		return errdefs.Invalidf("registry %s refused to show %s (HTTP %d): its credentials are missing or wrong; an administrator logs in with `dockyard registries login %s --user USER --password-stdin`",
			host, ref, te.StatusCode, host)
	case isNotFound(err):
		return errdefs.NotFoundf("registry %s has no image %s: check the repository and tag", host, ref)
	case strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "certificate") ||
		// A loopback registry is also tried over plain HTTP: a TLS one
		// refuses that, which is all that is left when its certificate
		// was not trusted.
		strings.Contains(err.Error(), "HTTP request to an HTTPS server"):
		return errdefs.Unavailablef("registry %s: its TLS certificate is not trusted (%w): an administrator adds its CA with `dockyard registries add %s --ca-file CA.pem`", host, err, host)
	}
	if te != nil {
		return errdefs.Unavailablef("registry %s answered HTTP %d for %s: %w", host, te.StatusCode, ref, te)
	}
	return errdefs.Unavailablef("registry %s cannot be reached to resolve %s: %w", host, ref, err)
}

// ParseRemote parses a reference that names its registry host
// (HOST[:PORT]/REPO[:TAG|@DIGEST]).
func ParseRemote(ref string) (name.Reference, error) {
	if !IsRemote(ref) {
		return nil, errdefs.Invalidf("reference %q names no registry host: write HOST[:PORT]/REPO:TAG (e.g. registry.example.com/golden-cpu:5.2.0)", ref)
	}
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, errdefs.Invalidf("reference %q: %w: write HOST[:PORT]/REPO:TAG or HOST[:PORT]/REPO@sha256:DIGEST", ref, err)
	}
	return r, nil
}

// IsRemote reports whether ref names a registry host, as Docker reads a
// reference: its first path component has a dot or a port, or is
// localhost. Other references name images local to the engine.
func IsRemote(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	if !ok {
		return false
	}
	return strings.ContainsAny(first, ".:") || first == "localhost"
}
