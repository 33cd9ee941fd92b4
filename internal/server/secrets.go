package server

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/config"
	"github.com/dockyard/dockyard/internal/secrets"
)

// SecretKeyFile is where the key that seals secrets at rest (observability
// tokens, external container tokens, registry credentials) lives, under the
// data dir, unless DOCKYARD_SECRET_KEY gives the key.
const SecretKeyFile = "secret.key"

// openSecrets loads (or creates, owner-only) the key that seals secrets at
// rest.
func openSecrets(cfg config.Config) (*secrets.Box, error) {
	box, err := secrets.Load(filepath.Join(cfg.Data, SecretKeyFile), os.Getenv(secrets.EnvKey))
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return box, nil
}
