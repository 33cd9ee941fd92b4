package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the module path; rules name packages relative to it.
const module = "github.com/dockyard/dockyard"

// rule is one line of the layer table. Package patterns are relative to
// the module: "internal/x" is that package, "internal/x/..." it and every
// package under it.
type rule struct {
	why    string   // what the rule keeps true, for the failure message
	from   []string // the packages the rule is about
	except []string // packages matched by from that it is not about

	// direct restricts deny to from's own imports; otherwise deny covers
	// everything from depends on, through any chain of imports.
	direct bool
	deny   []string

	// only, when set, lists the module's packages from may depend on (its
	// own tree aside); modules lists the third-party modules it may use.
	// The standard library is always allowed.
	only    []string
	modules []string

	// files, when set, restricts the rule to imports of deny made by files
	// of from whose names do not start with one of these prefixes: the
	// files that may import deny.
	files []string
}

// services are the packages between the API and storage: what the API
// calls, and what calls the store, the runtimes and the blob store.
var services = []string{
	"internal/access", "internal/audit", "internal/knowledge", "internal/models", "internal/lookups",
	"internal/notebooks", "internal/containers", "internal/images", "internal/index", "internal/search",
	"internal/ml/...", "internal/nbsync", "internal/gpu", "internal/signing",
}

// storage is the bottom layer: interfaces with their conformance suites,
// and their implementations.
var storage = []string{"internal/store/...", "internal/runtime/...", "internal/blob/..."}

// implementations are the storage implementations the server chooses.
var implementations = []string{
	"internal/store/sqlite", "internal/runtime/docker", "internal/runtime/process", "internal/runtime/kube", "internal/blob/fs",
}

// top is the layer that assembles or presents everything.
var top = []string{"internal/api", "internal/web", "internal/server/...", "internal/cli", "internal/client"}

// rules is the layer table (docs/design.md, "Layers").
var rules = []rule{
	{
		why:    "api → services → store/runtime/blob: the API calls services and never storage itself",
		from:   []string{"internal/api"},
		direct: true,
		deny:   append(slices.Clone(storage), "internal/maintenance"),
	},
	{
		why:  "the API reaches no storage implementation, not even through a service: the server chooses them",
		from: []string{"internal/api"},
		deny: append(slices.Clone(implementations), "internal/server/...", "internal/cli", "internal/client"),
	},
	{
		why:    "the web console acts only through the API's routes (api.Invoke): it imports no service but access (the principal), and no storage",
		from:   []string{"internal/web"},
		direct: true,
		deny:   append(append(slices.DeleteFunc(slices.Clone(services), func(s string) bool { return s == "internal/access" }), storage...), "internal/maintenance"),
	},
	{
		why:  "the web console reaches no storage implementation, server, CLI or client, as the API",
		from: []string{"internal/web"},
		deny: append(slices.Clone(implementations), "internal/server/...", "internal/cli", "internal/client"),
	},
	{
		why:  "services depend on the storage interfaces, never on an implementation",
		from: services,
		deny: implementations,
	},
	{
		why:    "nothing below the top layer (api, server, cli, client) imports it",
		from:   []string{"internal/..."},
		except: append(slices.Clone(top), "internal/deptest"),
		deny:   top,
	},
	{
		why:  "storage never imports the services built on it",
		from: storage,
		deny: append(slices.Clone(services), "internal/maintenance", "internal/telemetry"),
	},
	{
		why:     "the Go client speaks the wire protocol and the transfer format only, so that it carries no server code",
		from:    []string{"internal/client"},
		only:    []string{"internal/wire", "internal/transfer", "internal/errdefs", "internal/errdefs/errhttp"},
		modules: []string{"github.com/containerd/errdefs", "github.com/containerd/errdefs/pkg"},
	},
	{
		why:     "wire holds the protocol's types and depends on nothing of the module but errdefs",
		from:    []string{"internal/wire"},
		only:    []string{"internal/errdefs"},
		modules: []string{"github.com/containerd/errdefs", "github.com/containerd/errdefs/pkg"},
	},
	{
		why:     "the transfer format (client, models and blob share it) carries no server code",
		from:    []string{"internal/transfer"},
		only:    []string{"internal/wire", "internal/errdefs"},
		modules: []string{"github.com/containerd/errdefs", "github.com/containerd/errdefs/pkg"},
	},
	{
		why:     "events, shared by index and search, is a leaf",
		from:    []string{"internal/events"},
		only:    []string{"internal/errdefs"},
		modules: []string{"github.com/containerd/errdefs", "github.com/containerd/errdefs/pkg"},
	},
	{
		why:  "search depends on its own event types, not on the index that serves them",
		from: []string{"internal/search", "internal/spl"},
		deny: []string{"internal/index"},
	},
	{
		why:    "the agent runs inside containers: it carries no server, service or storage implementation",
		from:   []string{"internal/agent/..."},
		except: []string{"internal/agent/agentclient"},
		deny:   append(append(slices.Clone(services), implementations...), "internal/server/...", "internal/api", "internal/maintenance", "internal/pki"),
	},
	{
		why:   "the CLI imports the server only for the commands that run one or work offline on its data directory (server, quickstart, admin restore in server_restore.go)",
		from:  []string{"internal/cli"},
		deny:  []string{"internal/server/..."},
		files: []string{"server", "quickstart"},
	},
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	Imports    []string
	Module     *struct{ Path string }
}

// graph is the module's packages and their dependencies, tests excluded.
type graph map[string]*pkg

func loadGraph(t *testing.T) graph {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = strings.TrimSpace(string(root))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -json ./...: %v\n%s", err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		g[p.ImportPath] = &p
	}
	return g
}

// match reports whether the module package path (full import path) is one
// of patterns.
func match(path string, patterns []string) bool {
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return false
	}
	for _, p := range patterns {
		if tree, ok := strings.CutSuffix(p, "/..."); ok {
			if rel == tree || strings.HasPrefix(rel, tree+"/") {
				return true
			}
		} else if rel == p {
			return true
		}
	}
	return false
}

func short(path string) string { return strings.TrimPrefix(path, module+"/") }

// chain returns the shortest chain of imports from start to a package for
// which bad is true, as "a → b → c", or "" when there is none.
func (g graph) chain(start string, bad func(string) bool) string {
	prev := map[string]string{start: ""}
	queue := []string{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := g[cur]
		if p == nil {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = cur
			if bad(imp) {
				var path []string
				for at := imp; at != ""; at = prev[at] {
					path = append(path, short(at))
				}
				slices.Reverse(path)
				return strings.Join(path, " → ")
			}
			queue = append(queue, imp)
		}
	}
	return ""
}

// moduleOf is the module path of a package, "" for the standard library.
func (g graph) moduleOf(path string) string {
	p := g[path]
	if p == nil || p.Standard || p.Module == nil {
		return ""
	}
	return p.Module.Path
}

// check returns one message for each package that breaks r, and an error
// when a pattern of r.from matches no package (a rule that checks less
// than it says).
func (g graph) check(r rule) ([]string, error) {
	var froms []string
	for _, pattern := range r.from {
		n := 0
		for path := range g {
			if match(path, []string{pattern}) {
				n++
				if !match(path, r.except) && !slices.Contains(froms, path) {
					froms = append(froms, path)
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("rule %q: no package matches %s; update the rule to the package layout", r.why, pattern)
		}
	}
	slices.Sort(froms)
	var bad []string
	for _, from := range froms {
		switch {
		case r.files != nil:
			msgs, err := g.fileImports(from, r)
			if err != nil {
				return nil, err
			}
			bad = append(bad, msgs...)
		case r.direct:
			for _, imp := range g[from].Imports {
				if match(imp, r.deny) {
					bad = append(bad, fmt.Sprintf("%s imports %s", short(from), short(imp)))
				}
			}
		case r.only != nil:
			own := strings.TrimPrefix(from, module+"/")
			allowed := append(slices.Clone(r.only), own+"/...")
			c := g.chain(from, func(imp string) bool {
				mod := g.moduleOf(imp)
				switch {
				case mod == "":
					return false
				case mod == module:
					return !match(imp, allowed)
				default:
					return !slices.Contains(r.modules, mod)
				}
			})
			if c != "" {
				bad = append(bad, "imports "+c)
			}
		default:
			if c := g.chain(from, func(imp string) bool { return match(imp, r.deny) }); c != "" {
				bad = append(bad, "imports "+c)
			}
		}
	}
	return bad, nil
}

// fileImports checks r.deny against the imports of each file of from,
// except those whose names start with one of r.files.
func (g graph) fileImports(from string, r rule) ([]string, error) {
	p := g[from]
	var bad []string
	for _, name := range p.GoFiles {
		if slices.ContainsFunc(r.files, func(prefix string) bool { return strings.HasPrefix(name, prefix) }) {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, parser.ImportsOnly)
		if err != nil {
			return nil, err
		}
		for _, is := range f.Imports {
			imp, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return nil, err
			}
			if match(imp, r.deny) {
				bad = append(bad, fmt.Sprintf("%s/%s imports %s", short(from), name, short(imp)))
			}
		}
	}
	return bad, nil
}

// TestLayers checks the module's imports (tests excluded) against rules.
func TestLayers(t *testing.T) {
	g := loadGraph(t)
	for _, r := range rules {
		bad, err := g.check(r)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, b := range bad {
			t.Errorf("%s\n\tbreaks the layer rule: %s", b, r.why)
		}
	}
}

// TestCheckNamesChain checks the checker on a small graph: a broken rule
// is reported with the chain of imports that breaks it.
func TestCheckNamesChain(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	mod := &struct{ Path string }{module}
	g := graph{
		m("internal/api"):          {ImportPath: m("internal/api"), Imports: []string{"fmt", m("internal/access")}, Module: mod},
		m("internal/access"):       {ImportPath: m("internal/access"), Imports: []string{m("internal/store/sqlite")}, Module: mod},
		m("internal/store/sqlite"): {ImportPath: m("internal/store/sqlite"), Imports: []string{"example.com/driver"}, Module: mod},
		"example.com/driver":       {ImportPath: "example.com/driver", Module: &struct{ Path string }{"example.com/driver"}},
		"fmt":                      {ImportPath: "fmt", Standard: true},
	}
	for _, tc := range []struct {
		r    rule
		want []string
	}{
		{rule{from: []string{"internal/api"}, deny: []string{"internal/store/..."}},
			[]string{"imports internal/api → internal/access → internal/store/sqlite"}},
		{rule{from: []string{"internal/api"}, direct: true, deny: []string{"internal/store/..."}}, nil},
		{rule{from: []string{"internal/api"}, direct: true, deny: []string{"internal/access"}},
			[]string{"internal/api imports internal/access"}},
		{rule{from: []string{"internal/access"}, only: []string{"internal/store/..."}},
			[]string{"imports internal/access → internal/store/sqlite → example.com/driver"}},
		{rule{from: []string{"internal/access"}, only: []string{"internal/store/..."}, modules: []string{"example.com/driver"}}, nil},
		{rule{from: []string{"internal/api"}, only: []string{"internal/errdefs"}},
			[]string{"imports internal/api → internal/access"}},
	} {
		got, err := g.check(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("check(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
	if _, err := g.check(rule{why: "gone", from: []string{"internal/api", "internal/gone"}}); err == nil || !strings.Contains(err.Error(), "internal/gone") {
		t.Errorf("a rule naming a package that is gone: %v; want an error naming it", err)
	}
}
