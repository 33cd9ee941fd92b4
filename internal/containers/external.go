package containers

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// RegisterRequest registers an already-running container API endpoint.
// CAPEM verifies its certificate (empty: the system roots).
type RegisterRequest struct {
	Name  string
	URL   string
	Token string
	CAPEM string
	Model string
}

func tokenPurpose(name string) string { return "container-token:" + name }

// Register records an external container (needs configure_mltk_container),
// owned by the caller. Its token is sealed at rest and never returned;
// registering a name again replaces its endpoint, token and CA, which only
// its owner or an administrator may do.
func (s *Service) Register(ctx context.Context, p *access.Principal, req RegisterRequest) (store.Container, error) {
	if err := needCap(p, access.CapConfigureContainer, fmt.Sprintf("registering container %q", req.Name)); err != nil {
		s.record(ctx, audit.Event{User: p.User, Action: "container.register", Object: "container:" + req.Name, Result: audit.ResultDenied, Message: err.Error()})
		return store.Container{}, err
	}
	if req.Name == DevName || strings.Contains(req.Name, "/") {
		return store.Container{}, errdefs.Invalidf("container name %q is kept for development containers; choose another", req.Name)
	}
	n, sc, err := scope(p, req.Name)
	if err != nil {
		return store.Container{}, err
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return store.Container{}, errdefs.Invalidf("container URL %q: give the https://HOST:PORT of the container API (TLS is required)", req.URL)
	}
	if strings.TrimSpace(req.Token) == "" {
		return store.Container{}, errdefs.Invalid("the container's API token is empty: pass it on standard input with --token-stdin")
	}
	if req.CAPEM != "" {
		if _, err := pki.ClientTLSConfigPEM("the CA file", []byte(req.CAPEM)); err != nil {
			return store.Container{}, err
		}
	}
	if s.o.Secrets == nil {
		return store.Container{}, errdefs.Unavailable("this server has no secret key to seal container tokens with; configure one (see docs/containers.md)")
	}
	sealed, err := s.o.Secrets.Seal(req.Token, tokenPurpose(n))
	if err != nil {
		return store.Container{}, fmt.Errorf("sealing the container token: %w", err)
	}
	defer s.lock(n, sc)()
	c, err := s.o.Store.GetContainer(ctx, n, sc)
	fresh := errdefs.IsNotFound(err)
	switch {
	case fresh:
		c = store.Container{Name: n, Owner: p.User, Runtime: RuntimeExternal, Created: s.now()}
	case err != nil:
		return c, err
	case !may(p, c, verbManage):
		s.denied(ctx, p, "container.register", c, "not its owner")
		return store.Container{}, notFound(n)
	case c.Runtime != RuntimeExternal:
		return c, errdefs.Conflictf("container %q exists and runs on the %s runtime: remove it first or choose another name", n, c.Runtime)
	}
	c.Image, c.Desired, c.Status, c.Message = "external", DesiredRunning, StatusRegistered, ""
	c.Endpoint, c.Model, c.TokenSealed, c.TokenHint, c.CAPEM = strings.TrimRight(req.URL, "/"), req.Model, sealed, secrets.Last4(req.Token), req.CAPEM
	c.Started, c.StartedBy, c.Updated = s.now(), p.User, s.now()
	if fresh {
		c, err = s.o.Store.CreateContainer(ctx, c)
	} else {
		err = s.o.Store.UpdateContainer(ctx, c)
	}
	if err != nil {
		return c, err
	}
	s.record(ctx, audit.Event{User: p.User, Action: "container.register", Object: object(c), Details: map[string]any{
		"url": c.Endpoint, "token": c.TokenHint, "ca": req.CAPEM != "", "model": c.Model, "replaced": !fresh,
	}})
	return c, nil
}

// externalHandle opens an external container's token and TLS settings.
func (s *Service) externalHandle(c store.Container, p *access.Principal) (*Handle, error) {
	if c.Desired == DesiredStopped {
		return nil, errdefs.Unavailablef("external container %q is marked stopped: register it again to use it", c.Name)
	}
	if s.o.Secrets == nil {
		return nil, errdefs.Unavailablef("container %q: this server has no secret key to open its token with", c.Name)
	}
	tok, err := s.o.Secrets.Open(c.TokenSealed, tokenPurpose(c.Name))
	if err != nil {
		return nil, fmt.Errorf("container %q: its token does not open (register it again): %w", c.Name, err)
	}
	tlsConf, err := pki.ClientTLSConfigPEM("container "+c.Name+" CA", []byte(c.CAPEM))
	if c.CAPEM == "" {
		tlsConf, err = pki.ClientTLSConfig("")
	}
	if err != nil {
		return nil, err
	}
	return &Handle{Name: c.Name, Owner: c.Owner, Runtime: c.Runtime, Image: c.Image, Endpoint: c.Endpoint, Token: tok,
		TLS: tlsConf, Principal: p, Record: c}, nil
}
