package sqlite

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/store"
)

// TestListPlansAgree lists with every filter once through the plan that
// drives from the tag or trigram index and once through the name-order walk,
// and wants the same pages.
func TestListPlansAgree(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	words := []string{"churn", "Fraud", "iris", "ab"}
	for i := range 60 {
		sharing := []string{"user", "app", "global"}[i%3]
		m := store.Model{
			Name: fmt.Sprintf("%s-%s-%02d", words[i%4], words[(i/4)%4], i), App: fmt.Sprintf("app%d", i%2),
			Owner: fmt.Sprintf("u%d", i%5), Sharing: sharing, Description: words[(i+1)%4] + " model",
		}
		if i%4 == 0 {
			m.Tags = []string{"hot"}
		}
		if i%7 == 0 {
			m.Read = []string{"team"}
		}
		if _, err := db.CreateModel(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// A deleted model must leave the search index.
	page, _ := db.ListModels(ctx, store.ModelQuery{Viewer: store.Viewer{All: true}, Limit: 2})
	gone := page.Models[0]
	if err := db.DeleteModel(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	viewers := []store.Viewer{{User: "u1", Roles: []string{"user"}, App: "app0"}, {User: "u2", Roles: []string{"team"}, App: "app1"}, {All: true}}
	queries := []store.ModelQuery{{Tag: "hot"}, {Search: "fraud"}, {Search: "RIS-"}, {Search: "model"}, {Search: gone.Name},
		{Tag: "hot", Search: "churn"}, {Search: "iris", Owner: "u3"}, {Search: `a"b`}}
	all := func(q store.ModelQuery) []string {
		var names []string
		for {
			p, err := db.ListModels(ctx, q)
			if err != nil {
				t.Fatalf("ListModels %+v: %v", q, err)
			}
			for _, m := range p.Models {
				names = append(names, m.Name)
			}
			if p.Next == "" {
				return names
			}
			q.After = p.Next
		}
	}
	defer func(old int) { modelDriveLimit = old }(modelDriveLimit)
	for _, v := range viewers {
		for _, q := range queries {
			q.Viewer, q.Limit = v, 4
			modelDriveLimit = 1000
			driven := all(q)
			modelDriveLimit = 0 // any match at all walks the name index
			walked := all(q)
			if !slices.Equal(driven, walked) {
				t.Errorf("%+v: driven %v, walked %v", q, driven, walked)
			}
			if q.Search == "model" && len(driven) != 0 || q.Search == gone.Name && len(driven) != 0 {
				t.Errorf("%+v: search index out of step: %v", q, driven)
			}
		}
	}
}
