package server

import (
	"crypto/tls"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/pki"
)

// openAgentCerts opens the operator certificates for agents
// (containers.certs_dir, verified by containers.certs_ca_file); nil when
// none are configured.
func openAgentCerts(cfg config.Config) (*pki.AgentCerts, error) {
	if cfg.Containers.CertsDir == "" {
		return nil, nil
	}
	return pki.OpenAgentCerts(cfg.Containers.CertsDir, cfg.Containers.CertsCAFile)
}

// withOperatorRoots adds the CAs of the operator certificates to what
// verifies agents, beside the server CA.
func withOperatorRoots(tc *tls.Config, certs *pki.AgentCerts) *tls.Config {
	if certs == nil {
		return tc
	}
	tc = tc.Clone()
	pool := tc.RootCAs.Clone()
	for _, c := range certs.Certs() {
		pool.AddCert(c)
	}
	tc.RootCAs = pool
	return tc
}

// certSource is the containers' view of the operator certificates (nil
// when none: a typed nil would not read as none).
func certSource(certs *pki.AgentCerts) containers.CertSource {
	if certs == nil {
		return nil
	}
	return certs
}

// agentCertHosts are the addresses the server dials agents at, by
// runtime, which an operator certificate must cover: process and docker
// agents listen on loopback (the docker runtime publishes on 127.0.0.1).
// A runtime not listed (kubernetes: a cluster IP assigned at create) takes
// no operator certificate; one that dials a name known beforehand adds it
// here.
func agentCertHosts() map[string][]string {
	return map[string][]string{"process": {"127.0.0.1"}, "docker": {"127.0.0.1"}}
}

// checkImageCert checks the operator certificate a catalogue entry names,
// for agents of its runtime (nil when none are configured).
func checkImageCert(certs *pki.AgentCerts) func(name, runtime string) error {
	if certs == nil {
		return nil
	}
	return func(name, runtime string) error {
		hosts, ok := agentCertHosts()[runtime]
		if !ok {
			return errdefs.Invalidf("image runtime %s takes no operator certificate (the address its agents are dialled at is not known before they are created): leave --cert unset, and the server CA issues theirs", runtime)
		}
		_, _, err := certs.Load(name, hosts)
		return err
	}
}
