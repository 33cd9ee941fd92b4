package images

import (
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// checkCert checks the operator certificate pair e names (Options.CheckCert)
// when it is added or re-pinned, so that a bad pair is refused here, with
// its own message, rather than at each start.
func (c *Catalogue) checkCert(e Entry) error {
	if e.Cert == "" {
		return nil
	}
	if e.Runtime == RuntimeProcess && e.Name == ProcessImage {
		return errdefs.Invalidf("image %q is built in: start containers with --cert instead", e.Name)
	}
	if c.o.CheckCert == nil {
		return errdefs.Invalidf("image %q names the operator certificate %q, but this server has no certificates directory: set containers.certs_dir and containers.certs_ca_file (docs/tls.md)", e.Name, e.Cert)
	}
	if err := c.o.CheckCert(e.Cert, e.Runtime); err != nil {
		return fmt.Errorf("image %q: %w", e.Name, err)
	}
	return nil
}
