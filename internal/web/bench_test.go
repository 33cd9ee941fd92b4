package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

var nextRe = regexp.MustCompile(`<a href="([^"]*)" rel="next">`)

// benchModelCount is the number of models BenchmarkModelsPage serves.
const benchModelCount = 10_000

// seedModels writes n models (one version and a current alias each) into
// the stopped server's database in one transaction: alternately shared in
// the default app and private to alice, and a fifth of them readable only
// by a role alice lacks.
func seedModels(b testing.TB, data string, n int) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "dockyard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	created := "2026-01-02T03:04:05.000000000Z"
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("model-%05d", i)
		sharing, scope := "app", ""
		owner := "alice"
		if i%2 == 0 {
			sharing, scope = "user", "alice"
		}
		readRoles, readOpen := "[]", 1
		if i%5 == 0 {
			readRoles, readOpen = `["secret-team"]`, 0
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO models(name, app, owner, sharing, scope_owner, read_roles, write_roles, read_open,
			description, tags, latest_version, current_version, algo, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			name, "search", owner, sharing, scope, readRoles, "[]", readOpen, "", "[]", 1, 1, "linreg", created, created)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if readOpen == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO model_roles(model_id, role, kind) VALUES (?,?,?)`, id, "secret-team", "read"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_versions(model_id, version, digest, creator, created, algo, params, fit_info,
			lineage, files, size) VALUES (?,?,?,?,?,?,?,?,?,?,?)`, id, 1, fmt.Sprintf("sha256:%064x", i), owner, created, "linreg",
			`{}`, `{"score":0.9}`, `{"notebook":"nb","rows":150}`, 1, 4096); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_aliases(model_id, alias, version, updated, updated_by) VALUES (?,?,?,?,?)`,
			id, "current", 1, created, owner); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkModelsPage measures GET /models (the whole path: TLS, the
// session cookie, the page route, the API's list route in process, the
// template) with 10,000 models, for a user who may read most of them, and
// reports p50 and p99 in milliseconds per scenario. Target: under 200 ms.
func BenchmarkModelsPage(b *testing.B) {
	cfg := servertest.Config(b.TempDir())
	h := servertest.StartConfig(b, cfg)
	if _, err := h.Srv.Access().AddUser(context.Background(), access.NewUser{Name: "alice", Password: servertest.UserPassword,
		Roles: []string{access.RoleUser, access.RolePower}}); err != nil {
		b.Fatal(err)
	}
	h.Stop()
	seedModels(b, cfg.Data, benchModelCount)
	h = servertest.StartConfig(b, cfg)
	br := newBrowser(b, h)
	br.login("alice", servertest.UserPassword)
	// The 60th page, by following the Next links.
	deep := "/models"
	for i := 0; i < 60; i++ {
		_, body := br.get(deep)
		m := nextRe.FindStringSubmatch(body)
		if m == nil {
			b.Fatalf("page %d has no next link", i+1)
		}
		deep = html.UnescapeString(m[1])
	}
	for _, sc := range []struct{ name, path string }{
		{"first_page", "/models"},
		{"filter_search", "/models?search=model-0999"},
		{"filter_sharing", "/models?sharing=user"},
		{"page_60", deep},
	} {
		b.Run(sc.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, body := br.get(sc.path)
				ds = append(ds, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d %s", sc.path, resp.StatusCode, body)
				}
			}
			slices.Sort(ds)
			ms := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
			b.ReportMetric(ms(0.5), "p50_ms")
			b.ReportMetric(ms(0.99), "p99_ms")
		})
	}
}
