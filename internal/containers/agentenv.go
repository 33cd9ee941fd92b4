package containers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// EnvStarter is a runtime that can start a container with an environment
// that is neither stored nor logged (process.Runtime, docker.Runtime): only such runtimes
// receive the agents' trace settings and HEC tokens, which are secrets.
type EnvStarter interface {
	StartWithEnv(ctx context.Context, id string, env map[string]string) error
}

// HECIssuer creates and deletes the HEC tokens containers receive
// (Options.HEC); the server backs it with its event index service.
type HECIssuer interface {
	// CreateHECToken creates the token name that may write to indexes
	// ("*": every index but _internal; indexes that do not exist are
	// skipped) and returns its secret and default index. An existing
	// token of that name is replaced.
	CreateHECToken(ctx context.Context, name string, indexes []string) (secret, defaultIndex string, err error)
	// DeleteHECToken deletes the token name; ErrNotFound when there is none.
	DeleteHECToken(ctx context.Context, name string) error
}

// Principals resolves a user's effective principal (*access.Service).
type Principals interface {
	EffectivePrincipal(ctx context.Context, user, app string) (*access.Principal, error)
}

// SetHECTokens turns the HEC tokens of containers started from now on on
// or off (Options.HECTokens).
func (s *Service) SetHECTokens(on bool) { s.hecTokens.Store(on) }

// HECTokenName is the name of the HEC token a container receives:
// container-<its runtime name>, shortened with a hash when too long.
func HECTokenName(c store.Container) string {
	n := "container-" + runtimeName(c.Name, c.Scope)
	if len(n) <= 64 {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return n[:55] + "-" + hex.EncodeToString(sum[:4])
}

// startRuntime starts c's runtime container with the agent environment:
// the trace settings (Options.AgentEnv) and, when HEC tokens are on, a
// fresh HEC token for the owner's indexes. It returns the token's name
// ("" when none was issued). Secrets go to the runtime only; nothing here
// logs or audits them.
func (s *Service) startRuntime(ctx context.Context, rt runtime.Runtime, c store.Container) (string, error) {
	es, ok := rt.(EnvStarter)
	if !ok {
		if s.o.AgentEnv != nil || s.hecTokens.Load() {
			s.o.Log.Info("this runtime cannot pass a start environment: the container gets no trace settings and no HEC token", "container", c.Name, "runtime", c.Runtime)
		}
		return "", rt.Start(ctx, c.RuntimeID)
	}
	env := map[string]string{}
	if s.o.AgentEnv != nil {
		ae, err := s.o.AgentEnv(ctx)
		if err != nil {
			s.o.Log.Warn("the container's agent gets no trace settings", "container", c.Name, "err", err)
		}
		for k, v := range ae {
			env[k] = v
		}
	}
	hec, err := s.issueHEC(ctx, c, env)
	if err != nil {
		s.o.Log.Warn("the container gets no HEC token", "container", c.Name, "owner", c.Owner, "err", err)
	}
	if err := es.StartWithEnv(ctx, c.RuntimeID, env); err != nil {
		s.revokeHEC(ctx, c)
		return "", err
	}
	return hec, nil
}

// issueHEC creates c's HEC token when HEC tokens are on and adds the
// variables that reach the agent (and its notebooks) to env.
func (s *Service) issueHEC(ctx context.Context, c store.Container, env map[string]string) (string, error) {
	if !s.hecTokens.Load() || s.o.HEC == nil {
		return "", nil
	}
	if s.o.HECURL == "" {
		return "", errdefs.Invalid("the server's HEC URL is unknown")
	}
	indexes, err := s.ownerIndexes(ctx, c.Owner)
	if err != nil {
		return "", err
	}
	if len(indexes) == 0 {
		s.o.Log.Info("the container's owner may search no index a HEC token could write to: no HEC token", "container", c.Name, "owner", c.Owner)
		return "", nil
	}
	name := HECTokenName(c)
	secret, def, err := s.o.HEC.CreateHECToken(ctx, name, indexes)
	if err != nil {
		return "", fmt.Errorf("HEC token %s: %w", name, err)
	}
	env[agent.EnvHECURL] = s.o.HECURL
	env[agent.EnvHECToken] = secret
	env[agent.EnvHECIndex] = def
	if s.o.HECCAFile != "" {
		env[agent.EnvHECCAFile] = s.o.HECCAFile
	}
	return name, nil
}

// ownerIndexes returns the indexes the owner may search, without
// _internal (never writable through HEC).
func (s *Service) ownerIndexes(ctx context.Context, owner string) ([]string, error) {
	if s.o.Principals == nil {
		return nil, errdefs.Unavailable("containers: no principal resolver to find the owner's indexes")
	}
	p, err := s.o.Principals.EffectivePrincipal(ctx, owner, "")
	if err != nil {
		return nil, fmt.Errorf("the indexes of owner %q: %w", owner, err)
	}
	var out []string
	for _, ix := range p.Indexes {
		if ix != access.IndexInternal && !slices.Contains(out, ix) {
			out = append(out, ix)
		}
	}
	return out, nil
}

// revokeHEC deletes c's HEC token, if it has one.
func (s *Service) revokeHEC(ctx context.Context, c store.Container) {
	if s.o.HEC == nil {
		return
	}
	name := HECTokenName(c)
	if err := s.o.HEC.DeleteHECToken(context.WithoutCancel(ctx), name); err != nil && !errdefs.IsNotFound(err) {
		s.o.Log.Warn("deleting the container's HEC token", "container", c.Name, "token", name, "err", err)
	}
}
