package docker

import (
	"time"

	"github.com/dockyard/dockyard/internal/runtime"
)

// agentCert is the certificate and key the agent serves: the operator's
// pair the spec carries, else one the server CA issues for hosts.
func agentCert(spec runtime.Spec, issuer Issuer, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	if spec.AgentCert != nil {
		return spec.AgentCert.CertPEM, spec.AgentCert.KeyPEM, nil
	}
	return issuer.IssueServer("dockyard-agent-"+spec.Name, hosts, ttl)
}
