package runtime

import (
	"path"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ValidateName checks a container name: 1 to 128 letters, digits, '_', '-'
// or '.', not starting with '.' or '-'.
func ValidateName(name string) error {
	if name == "" || len(name) > 128 {
		return errdefs.Invalidf("container name %q: must be 1 to 128 characters", name)
	}
	for i, r := range name {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == '-' || r == '.')
		if !ok {
			return errdefs.Invalidf("container name %q: use letters, digits, '_', '-' and '.' only, starting with a letter, digit or '_'", name)
		}
	}
	return nil
}

// ValidateFilePath checks a Spec.Files key: relative, slash-separated,
// clean, without "..".
func ValidateFilePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "." ||
		p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
		return errdefs.Invalidf("container file %q: give a clean relative path such as notebooks/x.ipynb", p)
	}
	return nil
}

// ValidateSpec checks the parts of a spec every backend relies on.
func ValidateSpec(s Spec) error {
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	for p := range s.Files {
		if err := ValidateFilePath(p); err != nil {
			return err
		}
	}
	if s.GPUs < 0 {
		return errdefs.Invalidf("container %q: gpus must be 0 or more", s.Name)
	}
	return nil
}

// WithManaged returns a copy of labels with LabelManaged set to "true".
func WithManaged(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[LabelManaged] = "true"
	return out
}
