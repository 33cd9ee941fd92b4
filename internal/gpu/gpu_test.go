package gpu_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/gpu"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/runtime/fake"
	"github.com/dockyard/dockyard/internal/store"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

// dir is a Directory: users with their effective roles, and roles.
type dir struct {
	users map[string][]string
	roles map[string]bool
}

func (d dir) GetUser(ctx context.Context, name string) (store.User, error) {
	if _, ok := d.users[name]; !ok {
		return store.User{}, errdefs.NotFound("user " + name)
	}
	return store.User{Name: name}, nil
}

func (d dir) GetRole(ctx context.Context, name string) (store.Role, error) {
	if !d.roles[name] {
		return store.Role{}, errdefs.NotFound("role " + name)
	}
	return store.Role{Name: name}, nil
}

func (d dir) EffectivePrincipal(ctx context.Context, user, app string) (*access.Principal, error) {
	r, ok := d.users[user]
	if !ok {
		return nil, errdefs.NotFound("user " + user)
	}
	return &access.Principal{User: user, Roles: r}, nil
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var people = dir{
	users: map[string][]string{"carol": {"gpu_small", "gpu_big"}, "dave": {"gpu_small"}, "erin": {"user"}, "frank": {"gpu_big"}},
	roles: map[string]bool{"gpu_small": true, "gpu_big": true, "user": true},
}

// The limit: the user's quota, else the largest of their roles', else the
// default; a role quota caps each member on their own.
func TestLimitRules(t *testing.T) {
	ctx := context.Background()
	for _, def := range []int{0, -1, 3} {
		q, err := gpu.NewQuotas(openDB(t), people, def)
		if err != nil {
			t.Fatal(err)
		}
		must := func(_ gpu.Quota, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(q.Set(ctx, "admin", gpu.KindRole, "gpu_small", 1))
		must(q.Set(ctx, "admin", gpu.KindRole, "gpu_big", 4))
		must(q.Set(ctx, "admin", gpu.KindUser, "frank", 0))
		for _, tc := range []struct {
			user   string
			want   int
			source string
		}{
			{"carol", 4, "role gpu_big"},
			{"dave", 1, "role gpu_small"},
			{"frank", 0, "user frank"}, // the user quota wins, even when lower
			{"erin", def, gpu.DefaultQuotaSetting},
			{"ghost", def, gpu.DefaultQuotaSetting}, // no such user: no roles
		} {
			n, src, err := q.GPULimit(ctx, tc.user)
			if err != nil || n != tc.want || !strings.Contains(src, tc.source) {
				t.Errorf("default %d: GPULimit(%s) = %d, %q, %v; want %d by %s", def, tc.user, n, src, err, tc.want, tc.source)
			}
		}
	}
}

func TestQuotaChanges(t *testing.T) {
	ctx := context.Background()
	q, err := gpu.NewQuotas(openDB(t), people, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, name string
		max        int
		is         func(error) bool
		want       string
	}{
		{"group", "x", 1, errdefs.IsInvalid, "user or role"},
		{gpu.KindUser, "carol", -1, errdefs.IsInvalid, "0 or more"},
		{gpu.KindUser, "nobody", 1, errdefs.IsNotFound, "dockyard users list"},
		{gpu.KindRole, "nobody", 1, errdefs.IsNotFound, "dockyard roles list"},
	} {
		if _, err := q.Set(ctx, "admin", tc.kind, tc.name, tc.max); !tc.is(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%s %s %d) = %v, want %s", tc.kind, tc.name, tc.max, err, tc.want)
		}
	}
	if _, err := q.Set(ctx, "admin", gpu.KindUser, "carol", 2); err != nil {
		t.Fatal(err)
	}
	got, err := q.Set(ctx, "root", gpu.KindUser, "carol", 3)
	if err != nil || got.Max != 3 || got.UpdatedBy != "root" {
		t.Fatalf("Set again = %+v, %v", got, err)
	}
	if l, _ := q.List(ctx); len(l) != 1 || l[0].Max != 3 {
		t.Fatalf("List = %+v", l)
	}
	if old, err := q.Remove(ctx, gpu.KindUser, "carol"); err != nil || old.Max != 3 {
		t.Fatalf("Remove = %+v, %v", old, err)
	}
	if _, err := q.Remove(ctx, gpu.KindUser, "carol"); !errdefs.IsNotFound(err) {
		t.Fatalf("Remove twice = %v", err)
	}
	if _, err := gpu.NewQuotas(openDB(t), people, -2); !errdefs.IsInvalid(err) {
		t.Errorf("default -2 = %v", err)
	}
}

// gpuRuntime is the fake runtime with a GPU pool.
type gpuRuntime struct{ *fake.Runtime }

func (gpuRuntime) GPUs(ctx context.Context) ([]runtime.GPUPool, error) {
	return []runtime.GPUPool{{Runtime: "docker", Node: "host1", Resource: "nvidia", Capacity: -1, Allocatable: -1}}, nil
}

// The inventory lists each runtime's pools (none for one without
// GPUInventory), the GPU holders the caller may see, and the caller's
// own limit and holdings; others' containers stay hidden from a
// non-administrator.
func TestInventory(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	q, err := gpu.NewQuotas(db, people, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Set(ctx, "admin", gpu.KindUser, "carol", 2); err != nil {
		t.Fatal(err)
	}
	rts := map[string]runtime.Runtime{"process": fake.New(), "docker": gpuRuntime{fake.New()}}
	svc, err := containers.New(containers.Options{Store: db, Runtimes: rts, DefaultRuntime: "docker", DefaultImage: "img", ServerID: "s", GPUQuotas: q})
	if err != nil {
		t.Fatal(err)
	}
	user := func(name string) *access.Principal {
		return &access.Principal{User: name, Roles: people.users[name],
			Caps: access.CapSet{access.CapControlContainer: true, access.CapUseGPU: true, access.CapListContainer: true}}
	}
	for _, s := range []struct {
		who  string
		name string
		gpus int
	}{{"carol", "c1", 2}, {"dave", "d1", 1}, {"dave", "d0", 0}} {
		if _, err := svc.Start(ctx, user(s.who), containers.StartRequest{Name: s.name, GPUs: s.gpus}); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := gpu.NewInventory(rts, svc, q)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inv.List(ctx, user("carol"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runtimes) != 2 || rep.Runtimes[0].Name != "docker" || !rep.Runtimes[0].Supported || len(rep.Runtimes[0].Pools) != 1 ||
		rep.Runtimes[1].Name != "process" || rep.Runtimes[1].Supported {
		t.Errorf("runtimes = %+v", rep.Runtimes)
	}
	if len(rep.Holders) != 1 || rep.Holders[0].Name != "c1" || rep.You.Held != 2 || rep.You.Max != 2 || !strings.Contains(rep.You.Source, "user carol") {
		t.Errorf("carol's report = %+v", rep)
	}
	admin := user("root")
	admin.Caps[access.CapAdminAllObjects] = true
	rep, err = inv.List(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Holders) != 2 || rep.Holders[0].Owner != "carol" || rep.Holders[1].Owner != "dave" || rep.You.Held != 0 || rep.You.Max != -1 {
		t.Errorf("the administrator's report = %+v", rep)
	}
}
