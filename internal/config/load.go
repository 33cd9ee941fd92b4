package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Load builds the configuration: Default(), then the YAML file (if file is
// not ""), then DOCKYARD_* variables from environ ("KEY=value" entries, as
// os.Environ returns), then flags (dotted keys such as "addr", "data",
// "tls.cert_file"). Each layer overrides the one before: flags > environment
// > file > default. Unknown keys in the file or in flags are errors;
// DOCKYARD_* variables that are not configuration keys (DOCKYARD_TOKEN and
// other client settings) are ignored. The result is validated.
func Load(file string, environ []string, flags map[string]string) (Config, error) {
	c := Default()
	if file != "" {
		if err := c.applyFile(file); err != nil {
			return Config{}, err
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return Config{}, err
	}
	if err := c.applyFlags(flags); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) applyFile(file string) error {
	loadLeaves()
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return errdefs.Invalidf("config file %s: cannot read it (%w); check --config", file, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return errdefs.Invalidf("config file %s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return c.applyNode(file, "", doc.Content[0])
}

func (c *Config) applyNode(file, prefix string, n *yaml.Node) error {
	where := func(n *yaml.Node) string { return fmt.Sprintf("config file %s, line %d", file, n.Line) }
	if n.Tag == "!!null" {
		return nil // "auth:" with nothing under it
	}
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = fmt.Sprintf("key %q", prefix)
		}
		return errdefs.Invalidf("%s: %s must be a mapping of keys to values", where(n), what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		switch {
		case sections[key]:
			if err := c.applyNode(file, key, v); err != nil {
				return err
			}
		case byKey[key].key != "":
			if v.Kind != yaml.ScalarNode {
				return errdefs.Invalidf("%s: config key %q must be a single value, not a list or mapping", where(v), key)
			}
			if err := c.set(key, v.Value, " ("+where(v)+")"); err != nil {
				return err
			}
		default:
			return errdefs.Invalidf("%s: unknown config key %q; known keys%s: %s",
				where(k), key, under(prefix), strings.Join(siblings(prefix), ", "))
		}
	}
	return nil
}

func under(prefix string) string {
	if prefix == "" {
		return ""
	}
	return " under " + prefix
}

// siblings lists the keys and sections directly under prefix.
func siblings(prefix string) []string {
	loadLeaves()
	var out []string
	for _, k := range Keys() {
		rest := k
		if prefix != "" {
			var ok bool
			if rest, ok = strings.CutPrefix(k, prefix+"."); !ok {
				continue
			}
		}
		first, _, _ := strings.Cut(rest, ".")
		if !slices.Contains(out, first) {
			out = append(out, first)
		}
	}
	return out
}

func (c *Config) applyEnv(environ []string) error {
	loadLeaves()
	envKeys := make(map[string]string, len(leaves))
	for _, l := range leaves {
		envKeys[EnvVar(l.key)] = l.key
	}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, known := envKeys[name]
		if !known {
			continue
		}
		if err := c.set(key, value, " (environment variable "+name+")"); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) applyFlags(flags map[string]string) error {
	names := make([]string, 0, len(flags))
	for k := range flags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := c.set(k, flags[k], " (flag --"+k+")"); err != nil {
			return err
		}
	}
	return nil
}
