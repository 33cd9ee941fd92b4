package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// modelStore opens a store for one subtest.
func modelStore(t *testing.T, open Opener) store.ModelStore {
	t.Helper()
	return open(t)
}

func testModels(t *testing.T, open Opener) {
	t.Run("create find update delete", func(t *testing.T) { testModelRecords(t, modelStore(t, open)) })
	t.Run("versions aliases prune", func(t *testing.T) { testModelVersions(t, modelStore(t, open)) })
	t.Run("list visibility and pages", func(t *testing.T) { testModelList(t, modelStore(t, open)) })
	t.Run("concurrent versions", func(t *testing.T) { testModelConcurrency(t, modelStore(t, open)) })
}

var modelT0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

func mustModel(t *testing.T, ms store.ModelStore, m store.Model) store.Model {
	t.Helper()
	if m.Created.IsZero() {
		m.Created = modelT0
	}
	got, err := ms.CreateModel(context.Background(), m)
	if err != nil {
		t.Fatalf("CreateModel %+v: %v", m, err)
	}
	return got
}

func addVersion(t *testing.T, ms store.ModelStore, id int64, algo string) store.ModelVersion {
	t.Helper()
	v, _, err := ms.AddModelVersion(context.Background(), id, store.NewVersion{
		Version: store.ModelVersion{Digest: "sha256:" + fmt.Sprintf("%064d", id), Creator: "alice", Algo: algo, Created: modelT0},
		Alias:   "current", Reason: "new version",
	})
	if err != nil {
		t.Fatalf("AddModelVersion: %v", err)
	}
	return v
}

func testModelRecords(t *testing.T, ms store.ModelStore) {
	ctx := context.Background()
	priv := mustModel(t, ms, store.Model{Name: "M", App: "sales", Owner: "alice", Sharing: "user", Tags: []string{"x"}})
	bobPriv := mustModel(t, ms, store.Model{Name: "M", App: "sales", Owner: "bob", Sharing: "user"})
	shared := mustModel(t, ms, store.Model{Name: "M", App: "sales", Owner: "bob", Sharing: "app", Read: []string{"r"}, Write: []string{"w"}})
	mustModel(t, ms, store.Model{Name: "M", App: "hr", Owner: "carol", Sharing: "global"})
	if _, err := ms.CreateModel(ctx, store.Model{Name: "M", App: "sales", Owner: "bob", Sharing: "global"}); !errdefs.IsConflict(err) {
		t.Errorf("bob's second shared M in sales: %v, want a conflict", err)
	}
	if _, err := ms.CreateModel(ctx, store.Model{Name: "M", App: "sales", Owner: "alice", Sharing: "user"}); !errdefs.IsConflict(err) {
		t.Errorf("second private M of alice: %v, want a conflict", err)
	}
	got, err := ms.GetModel(ctx, shared.ID)
	if err != nil || got.Owner != "bob" || !slices.Equal(got.Read, []string{"r"}) || !slices.Equal(got.Write, []string{"w"}) ||
		!got.Created.Equal(modelT0) || got.Current != 0 {
		t.Errorf("GetModel: %+v, %v", got, err)
	}
	found, err := ms.FindModels(ctx, "M")
	if err != nil || len(found) != 4 || found[0].App != "hr" {
		t.Errorf("FindModels: %d models, %v; want 4, hr first", len(found), err)
	}
	// Sharing bob's private M at app level collides with his shared one
	// (shared objects are unique per owner: another user's shared M of the
	// same name is not the store's business; the services decide).
	bobPriv.Sharing = "app"
	if err := ms.UpdateModel(ctx, bobPriv); !errdefs.IsConflict(err) {
		t.Errorf("UpdateModel into a taken scope: %v, want a conflict", err)
	}
	priv.Sharing, priv.Description, priv.Tags = "user", "d", []string{"y", "z"}
	if err := ms.UpdateModel(ctx, priv); err != nil {
		t.Fatalf("UpdateModel: %v", err)
	}
	if got, _ := ms.GetModel(ctx, priv.ID); got.Description != "d" || !slices.Equal(got.Tags, []string{"y", "z"}) {
		t.Errorf("after update: %+v", got)
	}
	addVersion(t, ms, priv.ID, "a")
	if err := ms.DeleteModel(ctx, priv.ID); err != nil {
		t.Fatalf("DeleteModel: %v", err)
	}
	if _, err := ms.GetModel(ctx, priv.ID); !errdefs.IsNotFound(err) {
		t.Errorf("GetModel after delete: %v", err)
	}
	if vs, err := ms.ListModelVersions(ctx, priv.ID); err != nil || len(vs) != 0 {
		t.Errorf("versions after delete: %v, %v", vs, err)
	}
	if err := ms.DeleteModel(ctx, priv.ID); !errdefs.IsNotFound(err) {
		t.Errorf("second delete: %v, want not found", err)
	}
}

func testModelVersions(t *testing.T, ms store.ModelStore) {
	ctx := context.Background()
	m := mustModel(t, ms, store.Model{Name: "V", App: "sales", Owner: "alice", Sharing: "app"})
	for i := 1; i <= 5; i++ {
		if v := addVersion(t, ms, m.ID, fmt.Sprintf("algo%d", i)); v.Version != i {
			t.Fatalf("version %d numbered %d", i, v.Version)
		}
	}
	got, _ := ms.GetModel(ctx, m.ID)
	if got.Current != 5 || got.Latest != 5 || got.Algo != "algo5" {
		t.Errorf("model after 5 versions: %+v", got)
	}
	if _, err := ms.SetModelAlias(ctx, m.ID, "production", 9, "alice", "", modelT0); !errdefs.IsNotFound(err) {
		t.Errorf("alias to a missing version: %v, want not found", err)
	}
	mv, err := ms.SetModelAlias(ctx, m.ID, "current", 2, "bob", "rollback", modelT0)
	if err != nil || mv.From != 5 || mv.To != 2 {
		t.Fatalf("move current: %+v, %v", mv, err)
	}
	if got, _ := ms.GetModel(ctx, m.ID); got.Current != 2 || got.Algo != "algo2" {
		t.Errorf("model after moving current: %+v", got)
	}
	if _, err := ms.SetModelAlias(ctx, m.ID, "production", 1, "bob", "gold", modelT0); err != nil {
		t.Fatal(err)
	}
	pruned, err := ms.PruneModelVersions(ctx, m.ID, 2)
	slices.Sort(pruned)
	if err != nil || !slices.Equal(pruned, []int{3}) {
		t.Errorf("prune keep 2: %v, %v; want [3]", pruned, err)
	}
	vs, _ := ms.ListModelVersions(ctx, m.ID)
	var nums []int
	for _, v := range vs {
		nums = append(nums, v.Version)
	}
	if !slices.Equal(nums, []int{5, 4, 2, 1}) {
		t.Errorf("versions after prune: %v", nums)
	}
	if _, err := ms.GetModelVersion(ctx, m.ID, 3); !errdefs.IsNotFound(err) {
		t.Errorf("pruned version: %v", err)
	}
	if v, err := ms.GetModelVersion(ctx, m.ID, 4); err != nil || v.Algo != "algo4" || !v.Created.Equal(modelT0) {
		t.Errorf("GetModelVersion: %+v, %v", v, err)
	}
	if _, err := ms.DeleteModelAlias(ctx, m.ID, "production", "bob", "done", modelT0); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.DeleteModelAlias(ctx, m.ID, "production", "bob", "", modelT0); !errdefs.IsNotFound(err) {
		t.Errorf("delete a missing alias: %v", err)
	}
	// A new version after a rollback continues from the highest number.
	if v := addVersion(t, ms, m.ID, "algo6"); v.Version != 6 {
		t.Errorf("next version %d, want 6", v.Version)
	}
	aliases, _ := ms.ListModelAliases(ctx, m.ID)
	if len(aliases) != 1 || aliases[0].Alias != "current" || aliases[0].Version != 6 {
		t.Errorf("aliases: %+v", aliases)
	}
	hist, err := ms.ListModelAliasHistory(ctx, m.ID)
	if err != nil || len(hist) != 9 {
		t.Fatalf("history: %d moves, %v; want 9", len(hist), err)
	}
	if h := hist[5]; h.Alias != "current" || h.From != 5 || h.To != 2 || h.User != "bob" || h.Reason != "rollback" {
		t.Errorf("rollback move: %+v", h)
	}
	if h := hist[7]; h.Alias != "production" || h.From != 1 || h.To != 0 {
		t.Errorf("alias removal: %+v", h)
	}
	if _, _, err := ms.AddModelVersion(ctx, 987654, store.NewVersion{Alias: "current"}); !errdefs.IsNotFound(err) {
		t.Errorf("version of a missing model: %v", err)
	}
}

func testModelList(t *testing.T, ms store.ModelStore) {
	ctx := context.Background()
	mustModel(t, ms, store.Model{Name: "a-private", App: "sales", Owner: "alice", Sharing: "user"})
	mustModel(t, ms, store.Model{Name: "b-app-open", App: "sales", Owner: "bob", Sharing: "app", Tags: []string{"t"}})
	mustModel(t, ms, store.Model{Name: "c-app-editors", App: "sales", Owner: "bob", Sharing: "app", Read: []string{"editors"}})
	mustModel(t, ms, store.Model{Name: "d-app-writers", App: "sales", Owner: "bob", Sharing: "app", Read: []string{"nobody"}, Write: []string{"editors"}})
	mustModel(t, ms, store.Model{Name: "e-global", App: "hr", Owner: "carol", Sharing: "global"})
	mustModel(t, ms, store.Model{Name: "f-hr-app", App: "hr", Owner: "carol", Sharing: "app"})
	mustModel(t, ms, store.Model{Name: "g-global-star", App: "hr", Owner: "carol", Sharing: "global", Read: []string{"*"}})
	list := func(q store.ModelQuery) []string {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		p, err := ms.ListModels(ctx, q)
		if err != nil {
			t.Fatalf("ListModels: %v", err)
		}
		var out []string
		for _, m := range p.Models {
			out = append(out, m.Name)
		}
		return out
	}
	cases := []struct {
		v    store.Viewer
		want []string
	}{
		{store.Viewer{User: "alice", Roles: []string{"user"}, App: "sales"}, []string{"a-private", "b-app-open", "e-global", "g-global-star"}},
		{store.Viewer{User: "dave", Roles: []string{"editors"}, App: "sales"}, []string{"b-app-open", "c-app-editors", "d-app-writers", "e-global", "g-global-star"}},
		{store.Viewer{User: "erin", App: "hr"}, []string{"e-global", "f-hr-app", "g-global-star"}},
		{store.Viewer{User: "root", All: true}, []string{"a-private", "b-app-open", "c-app-editors", "d-app-writers", "e-global", "f-hr-app", "g-global-star"}},
	}
	for _, c := range cases {
		if got := list(store.ModelQuery{Viewer: c.v}); !slices.Equal(got, c.want) {
			t.Errorf("%s sees %v, want %v", c.v.User, got, c.want)
		}
	}
	alice := store.Viewer{User: "alice", Roles: []string{"user"}, App: "sales"}
	if got := list(store.ModelQuery{Viewer: alice, Tag: "t"}); !slices.Equal(got, []string{"b-app-open"}) {
		t.Errorf("tag filter: %v", got)
	}
	if got := list(store.ModelQuery{Viewer: alice, Search: "GLOBAL"}); !slices.Equal(got, []string{"e-global", "g-global-star"}) {
		t.Errorf("search: %v", got)
	}
	var paged []string
	q := store.ModelQuery{Viewer: alice, Limit: 3}
	for {
		p, err := ms.ListModels(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Models {
			paged = append(paged, m.Name)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if !slices.Equal(paged, cases[0].want) {
		t.Errorf("paged: %v", paged)
	}
	if _, err := ms.ListModels(ctx, store.ModelQuery{Viewer: alice, Limit: 3, After: "garbage"}); !errdefs.IsInvalid(err) {
		t.Errorf("bad cursor: %v, want invalid", err)
	}
}

func testModelConcurrency(t *testing.T, ms store.ModelStore) {
	m := mustModel(t, ms, store.Model{Name: "C", App: "sales", Owner: "alice", Sharing: "app"})
	const n = 16
	nums := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := ms.AddModelVersion(context.Background(), m.ID, store.NewVersion{
				Version: store.ModelVersion{Digest: "sha256:" + fmt.Sprintf("%064d", i), Creator: "alice"}, Alias: "current",
			})
			nums[i], errs[i] = v.Version, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("AddModelVersion: %v", err)
		}
	}
	slices.Sort(nums)
	for i, v := range nums {
		if v != i+1 {
			t.Fatalf("versions %v, want 1..%d each once", nums, n)
		}
	}
}
