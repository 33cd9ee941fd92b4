package models

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// The listing benchmark: 100,000 models with 1,000,000 versions in the
// SQLite store, listed and searched by a user without admin_all_objects.
//
//	DOCKYARD_BENCH_MODELS=1 go test -run '^$' -bench BenchmarkModelList -benchtime 1000x ./internal/models/
//
// DOCKYARD_BENCH_MODELS_DB=FILE keeps the generated database in FILE and
// reuses it on the next run.
const (
	benchModels   = 100_000
	benchVersions = 10 // per model: 1,000,000 in all
	benchUsers    = 200
	benchApps     = 20
)

var benchAlgos = []string{"linear_regression", "random_forest", "xgboost", "kmeans", "autoencoder", "prophet", "isolation_forest", "lstm"}
var benchWords = []string{"churn", "fraud", "demand", "iris", "sales", "risk", "anomaly", "forecast", "sentiment", "latency"}

var (
	benchOnce sync.Once
	benchDB   *sqlite.DB
	benchErr  error
)

// benchStore opens (generating on first use) the benchmark database.
func benchStore(b *testing.B) *sqlite.DB {
	b.Helper()
	if os.Getenv("DOCKYARD_BENCH_MODELS") == "" {
		b.Skip("set DOCKYARD_BENCH_MODELS=1 to build 100,000 models and 1,000,000 versions and benchmark listing")
	}
	benchOnce.Do(func() {
		path := os.Getenv("DOCKYARD_BENCH_MODELS_DB")
		if path == "" {
			dir, err := os.MkdirTemp("", "dockyard-bench-models-")
			if err != nil {
				benchErr = err
				return
			}
			path = filepath.Join(dir, "models.db")
		}
		ctx := context.Background()
		if benchDB, benchErr = sqlite.Open(ctx, path); benchErr != nil {
			return
		}
		var n int
		if benchErr = benchDB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM models`).Scan(&n); benchErr != nil || n > 0 {
			return
		}
		start := time.Now()
		benchErr = generate(ctx, benchDB)
		fmt.Fprintf(os.Stderr, "generated %d models and %d versions in %s at %s\n", benchModels, benchModels*benchVersions, time.Since(start).Round(time.Millisecond), path)
	})
	if benchErr != nil {
		b.Fatalf("benchmark store: %v", benchErr)
	}
	return benchDB
}

// generate bulk-inserts the data set in one transaction with prepared
// statements. 200 users in 20 apps; sharing 50% user, 35% app, 15% global;
// one model in five restricts reading to one of ten team roles; one in five
// carries one of ten tags; every model has 10 versions and a current alias.
func generate(ctx context.Context, db *sqlite.DB) error {
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prep := func(q string) (*sqlStmt, error) { s, err := tx.PrepareContext(ctx, q); return (*sqlStmt)(s), err }
	insModel, err := prep(`INSERT INTO models(id, name, app, owner, sharing, scope_owner, read_roles, write_roles, read_open,
		description, tags, latest_version, current_version, algo, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	insRole, err := prep(`INSERT INTO model_roles(model_id, role, kind) VALUES (?,?,?)`)
	if err != nil {
		return err
	}
	insTag, err := prep(`INSERT INTO model_tags(model_id, tag) VALUES (?,?)`)
	if err != nil {
		return err
	}
	insVersion, err := prep(`INSERT INTO model_versions(model_id, version, digest, creator, created, algo, params, fit_info,
		lineage, files, size) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	insAlias, err := prep(`INSERT INTO model_aliases(model_id, alias, version, updated, updated_by) VALUES (?,?,?,?,?)`)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	created := "2026-01-02T03:04:05.000000000Z"
	for id := int64(1); id <= benchModels; id++ {
		u := rng.IntN(benchUsers)
		owner, app := fmt.Sprintf("user%d", u), fmt.Sprintf("app%d", u%benchApps)
		sharing, scope := "user", owner
		switch r := rng.IntN(100); {
		case r >= 85:
			sharing, scope = "global", ""
		case r >= 50:
			sharing, scope = "app", ""
		}
		name := fmt.Sprintf("%s-%s-%06d", benchWords[rng.IntN(len(benchWords))], benchWords[rng.IntN(len(benchWords))], id)
		readRoles, readOpen := "[]", 1
		team := ""
		if rng.IntN(5) == 0 {
			team = fmt.Sprintf("team%d", rng.IntN(10))
			readRoles, readOpen = fmt.Sprintf(`["%s"]`, team), 0
		}
		tags := "[]"
		tag := ""
		if rng.IntN(5) == 0 {
			tag = fmt.Sprintf("tag%d", rng.IntN(10))
			tags = fmt.Sprintf(`["%s"]`, tag)
		}
		algo := benchAlgos[rng.IntN(len(benchAlgos))]
		if err := insModel.exec(ctx, id, name, app, owner, sharing, scope, readRoles, `["editors"]`, readOpen,
			"model "+name, tags, benchVersions, benchVersions, algo, created, created); err != nil {
			return err
		}
		if team != "" {
			if err := insRole.exec(ctx, id, team, "read"); err != nil {
				return err
			}
		}
		if err := insRole.exec(ctx, id, "editors", "write"); err != nil {
			return err
		}
		if tag != "" {
			if err := insTag.exec(ctx, id, tag); err != nil {
				return err
			}
		}
		for v := 1; v <= benchVersions; v++ {
			if err := insVersion.exec(ctx, id, v, fmt.Sprintf("sha256:%056x%08x", id, v), owner, created, algo,
				`{"epochs":"10"}`, `{"score":0.9}`, `{"notebook":"nb","rows":150}`, 2, 4096); err != nil {
				return err
			}
		}
		if err := insAlias.exec(ctx, id, "current", benchVersions, created, owner); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.SQL().ExecContext(ctx, `ANALYZE`)
	return err
}

// BenchmarkModelList measures one page of 50 for a non-admin user, per
// scenario, and reports p50 and p99 latencies in milliseconds.
func BenchmarkModelList(b *testing.B) {
	db := benchStore(b)
	reg := New(db, nil, nil, Options{}, nil)
	// user7 is in app7 and holds team3; it owns ~500 models.
	ctx := access.WithPrincipal(context.Background(), &access.Principal{User: "user7", Roles: []string{"team3", "user"}, App: "app7", Apps: benchAppSet()})
	scenarios := []struct {
		name string
		o    ListOptions
	}{
		{"first_page", ListOptions{}},
		{"deep_pages", ListOptions{}}, // follows the cursor page after page
		{"filter_algo", ListOptions{Algo: "xgboost"}},
		{"filter_tag", ListOptions{Tag: "tag4"}},
		{"filter_owner_other", ListOptions{Owner: "user8"}},
		{"filter_own", ListOptions{Owner: "user7"}},
		{"filter_app_other", ListOptions{App: "app3"}},
		{"filter_sharing_global", ListOptions{Sharing: "global"}},
		{"search_common", ListOptions{Search: "fraud"}},         // ~19,000 names
		{"search_mid", ListOptions{Search: "fraud-iris"}},       // ~1,000 names
		{"search_rare", ListOptions{Search: "churn-iris-0000"}}, // 1 name
		{"search_none", ListOptions{Search: "no-such-model"}},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			o := sc.o
			o.Limit = 50
			rows := 0
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				page, err := reg.List(ctx, o)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				rows += len(page.Models)
				if sc.name == "deep_pages" {
					o.After = page.Next // wraps to the first page at the end
				}
			}
			b.StopTimer()
			reportPercentiles(b, lat)
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
	b.Run("resolve", func(b *testing.B) {
		page, err := reg.List(ctx, ListOptions{Limit: 50, Search: "sales"})
		if err != nil || len(page.Models) == 0 {
			b.Fatalf("no model to resolve: %v", err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			_, _, err := reg.Resolve(ctx, Ref{Name: page.Models[i%len(page.Models)].Name})
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
}

type sqlStmt sql.Stmt

func (s *sqlStmt) exec(ctx context.Context, args ...any) error {
	_, err := (*sql.Stmt)(s).ExecContext(ctx, args...)
	return err
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(float64(len(lat)-1) * p)
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// benchAppSet makes every app of the benchmark readable.
func benchAppSet() access.AppSet {
	apps := access.AppSet{}
	for i := 0; i < benchApps; i++ {
		apps[fmt.Sprintf("app%d", i)] = access.AppPerm{Read: true, Write: true}
	}
	return apps
}
