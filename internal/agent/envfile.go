package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// maxEnvFile bounds the size of a start environment file.
const maxEnvFile = 1 << 20

// ReadEnvFile reads a start environment file (--env-file): KEY=VALUE
// lines, the value taken verbatim after the first '='; blank lines and
// lines starting with '#' are skipped. The file must be a regular file
// readable by its owner only (no group or other permission bits, as 0600)
// and owned by the agent's user; anything else is refused, since the file
// holds secrets. The file is deleted once read, so that its secrets do not
// outlive this start. A missing file is no error: it returns nil (a start
// without a start environment).
func ReadEnvFile(path string) (map[string]string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("start environment file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errdefs.Invalidf("start environment file %s is not a regular file (%s): refusing it; the runtime writes a plain file", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, errdefs.PermissionDeniedf("start environment file %s has mode %04o: refusing it, since others could read its secrets; it must be 0600", path, perm)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() {
		return nil, errdefs.PermissionDeniedf("start environment file %s is owned by uid %d, not by the agent's user (uid %d): refusing it", path, uid, os.Getuid())
	}
	if fi.Size() > maxEnvFile {
		return nil, errdefs.Invalidf("start environment file %s is %d bytes, more than the %d allowed", path, fi.Size(), maxEnvFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("start environment file %s: %w", path, err)
	}
	// Delete before parsing: a malformed file must not stay behind either.
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("start environment file %s: deleting it after reading (its secrets must not outlive this start): %w", path, err)
	}
	return parseEnvFile(path, b)
}

// parseEnvFile parses KEY=VALUE lines.
func parseEnvFile(path string, b []byte) (map[string]string, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxEnvFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\x00") || strings.Contains(v, "\x00") {
			// The line may hold a secret: name its number only.
			return nil, errdefs.Invalidf("start environment file %s: line %d is not KEY=VALUE", path, n)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("start environment file %s: %w", path, err)
	}
	return env, nil
}

// ApplyEnvFile reads the start environment file path (ReadEnvFile) and
// sets its variables in the agent's own environment, where they override
// what the container was created with, as the process runtime's start
// environment does. It returns the names it set, sorted; none when the
// file is absent. Main then takes the trace settings and the token out of
// the environment again before the notebook runner starts.
func ApplyEnvFile(path string) ([]string, error) {
	env, err := ReadEnvFile(path)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(env))
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("start environment file %s: setting %s: %w", path, k, err)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}
