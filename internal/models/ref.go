package models

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// AliasCurrent is the alias every new version moves and rollback moves back.
const AliasCurrent = "current"

const refSyntax = "[app:]NAME[@VERSION|@ALIAS]"

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	aliasRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)
)

// Ref names a model, and optionally one of its versions, from the caller's
// app context: [app:]NAME[@VERSION|@ALIAS].
type Ref struct {
	AppShared bool   // "app:" prefix: the model shared at app level (or above)
	Name      string // model name
	Version   int    // explicit version; 0 when absent
	Alias     string // alias; "" when absent (and Version is 0: "current")
	// Owner, when set, addresses the private model of that user in the
	// current app (for administrators); it has no text syntax.
	Owner string
}

// ParseRef parses [app:]NAME[@VERSION|@ALIAS].
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if after, ok := strings.CutPrefix(rest, "app:"); ok {
		r.AppShared, rest = true, after
	}
	name, suffix, hasSuffix := strings.Cut(rest, "@")
	if err := ValidateName(name); err != nil {
		return Ref{}, fmt.Errorf("model reference %q: %w", s, err)
	}
	r.Name = name
	if hasSuffix {
		if suffix == "" {
			return Ref{}, errdefs.Invalidf("model reference %q: nothing after @; use %s", s, refSyntax)
		}
		if n, err := strconv.Atoi(suffix); err == nil {
			if n <= 0 {
				return Ref{}, errdefs.Invalidf("model reference %q: versions are numbered from 1", s)
			}
			r.Version = n
		} else if err := ValidateAlias(suffix); err != nil {
			return Ref{}, fmt.Errorf("model reference %q: %w", s, err)
		} else {
			r.Alias = suffix
		}
	}
	return r, nil
}

// ValidateName checks a model name.
func ValidateName(name string) error {
	if name == "" {
		return errdefs.Invalid("model name is empty; use " + refSyntax)
	}
	if !nameRE.MatchString(name) {
		return errdefs.Invalidf("model name %q is not valid: use 1 to 128 letters, digits, '_', '.' or '-', "+
			"not starting with '.' or '-'", name)
	}
	return nil
}

// ValidateAlias checks an alias name.
func ValidateAlias(alias string) error {
	if !aliasRE.MatchString(alias) {
		return errdefs.Invalidf("alias %q is not valid: use a letter followed by up to 63 letters, digits, '_', '.' or '-'", alias)
	}
	return nil
}

// Base is the reference without its version or alias: [app:]NAME.
func (r Ref) Base() string {
	if r.AppShared {
		return "app:" + r.Name
	}
	return r.Name
}

// String formats the reference as ParseRef reads it.
func (r Ref) String() string {
	switch {
	case r.Version > 0:
		return r.Base() + "@" + strconv.Itoa(r.Version)
	case r.Alias != "":
		return r.Base() + "@" + r.Alias
	}
	return r.Base()
}

// unversioned reports an error when r names a version or alias where an
// operation acts on the whole model.
func (r Ref) unversioned(op string) error {
	if r.Version > 0 || r.Alias != "" {
		return errdefs.Invalidf("%s acts on a whole model: use %s without @%s", op, r.Base(), strings.TrimPrefix(r.String(), r.Base()+"@"))
	}
	return nil
}
