package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// credentials are what `dockyard login` keeps in the config dir.
type credentials struct {
	Server string `json:"server"`
	CAFile string `json:"ca_file,omitempty"`
	User   string `json:"user"`
	Token  string `json:"token"`
}

const credentialsFile = "credentials.json"

func loadCredentials(dir string) (credentials, error) {
	var c credentials
	if dir == "" {
		return c, errors.New("no config dir")
	}
	b, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w; log in again", filepath.Join(dir, credentialsFile), err)
	}
	return c, nil
}

// saveCredentials writes the file readable only by its owner.
func saveCredentials(dir string, c credentials) error {
	if dir == "" {
		return errors.New("no config dir: pass --config-dir or set DOCKYARD_CONFIG_DIR")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, credentialsFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, credentialsFile))
}
