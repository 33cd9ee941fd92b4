package containers

import (
	"context"
	"fmt"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/store"
)

// CertSource reads and checks operator certificate pairs for agents
// (*pki.AgentCerts, over containers.certs_dir): the pair called name must
// belong together, be valid now, cover every host and chain to the
// configured CA; each failure says which.
type CertSource interface {
	Load(name string, hosts []string) (certPEM, keyPEM []byte, err error)
}

// LabelCert is the label of a runtime container whose agent serves an
// operator certificate: the pair's name, so that a start notices a change.
const LabelCert = "dockyard.cert"

// keptCert is the container's own operator certificate after a start: the
// one the request names, else the one it had (a restart keeps it).
func keptCert(c store.Container, req StartRequest) string {
	if req.Cert != "" {
		return req.Cert
	}
	return c.Cert
}

// effectiveCert is the operator certificate the agent serves: the
// container's own, else its image entry's (the start's pinned image, in
// ctx); "" for one the server CA issues.
func effectiveCert(ctx context.Context, own string) string {
	if own != "" {
		return own
	}
	if pi, ok := ctx.Value(pinnedKey{}).(PinnedImage); ok {
		return pi.Cert
	}
	return ""
}

// checkCertRequest: naming a certificate for one container is an
// administrator's choice (configure_mltk_container), since the agent's
// private key is then inside that container, readable by the code that
// runs there.
func checkCertRequest(p *access.Principal, name string, req StartRequest) error {
	if req.Cert == "" {
		return nil
	}
	return needCap(p, access.CapConfigureContainer, fmt.Sprintf("starting container %q with the operator certificate %q", name, req.Cert))
}

// agentCert loads and checks the operator pair c's agent serves
// (effectiveCert), for the addresses the server dials agents of c's
// runtime at, and labels the runtime container with its name; nil when
// there is none.
func (s *Service) agentCert(ctx context.Context, c store.Container, labels map[string]string) (*runtime.KeyPair, error) {
	name := effectiveCert(ctx, c.Cert)
	if name == "" {
		return nil, nil
	}
	c.Cert = name
	if s.o.Certs == nil {
		return nil, errdefs.Invalidf("container %q names the operator certificate %q, but this server has no certificates directory: an administrator sets containers.certs_dir and containers.certs_ca_file (docs/tls.md)", c.Name, c.Cert)
	}
	hosts, ok := s.o.CertHosts[c.Runtime]
	if !ok {
		return nil, errdefs.Invalidf("container %q: the %s runtime takes no operator certificate (the address its agents are dialled at is not known before they are created): start it without --cert, and the server CA issues its certificate", c.Name, c.Runtime)
	}
	certPEM, keyPEM, err := s.o.Certs.Load(c.Cert, hosts)
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", c.Name, err)
	}
	labels[LabelCert] = name
	return &runtime.KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}, nil
}
