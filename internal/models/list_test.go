package models

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
)

func names(p Page) []string {
	var out []string
	for _, m := range p.Models {
		out = append(out, m.Name)
	}
	return out
}

// TestListFiltersAndPages pages through the visible models and applies each
// filter.
func TestListFiltersAndPages(t *testing.T) {
	e := newEnv(t, Options{})
	// bob's app-shared models A0..A6 with algo by parity; alice's private P;
	// carol's global G in hr; carol's app-shared H in hr (hidden from bob).
	for i := range 7 {
		e.register(t, bob, fmt.Sprintf("app:A%d", i), []string{"even", "odd"}[i%2], fmt.Sprint(i))
	}
	e.register(t, alice, "P", "even", "p")
	e.register(t, carol, "app:G", "even", "g")
	if _, err := e.reg.Share(as(carol), ref(t, "app:G"), access.SharingGlobal, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.register(t, carol, "app:H", "even", "h")
	tags := []string{"prod"}
	if _, err := e.reg.Update(as(bob), ref(t, "app:A3"), ModelUpdate{Tags: tags}); err != nil {
		t.Fatal(err)
	}
	desc := "Churn predictor"
	if _, err := e.reg.Update(as(bob), ref(t, "app:A5"), ModelUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}

	// Pages of 3 for alice: A0..A6, G, P (not H).
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		p, err := e.reg.List(as(alice), ListOptions{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, names(p)...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	want := []string{"A0", "A1", "A2", "A3", "A4", "A5", "A6", "G", "P"}
	if !slices.Equal(all, want) {
		t.Errorf("alice pages: %v, want %v", all, want)
	}
	cases := []struct {
		p    *access.Principal
		o    ListOptions
		want []string
	}{
		{alice, ListOptions{Algo: "odd"}, []string{"A1", "A3", "A5"}},
		{alice, ListOptions{Tag: "prod"}, []string{"A3"}},
		{alice, ListOptions{Owner: "carol"}, []string{"G"}},
		{alice, ListOptions{Sharing: "user"}, []string{"P"}},
		{alice, ListOptions{App: "hr"}, []string{"G"}},
		{alice, ListOptions{Search: "churn"}, nil}, // descriptions are not searched
		{alice, ListOptions{Search: "a6"}, []string{"A6"}},
		{bob, ListOptions{Sharing: "user"}, nil},
		{carol, ListOptions{App: "hr"}, []string{"G", "H"}},
		{admin, ListOptions{Owner: "alice"}, []string{"P"}},
		{admin, ListOptions{App: "hr"}, []string{"G", "H"}},
	}
	for _, c := range cases {
		p, err := e.reg.List(as(c.p), c.o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(p), c.want) {
			t.Errorf("%s lists %+v: %v, want %v", c.p.User, c.o, names(p), c.want)
		}
	}
	p, err := e.reg.List(as(alice), ListOptions{Algo: "odd"})
	if err != nil || len(p.Models) == 0 || !p.Models[0].Perms.Read || p.Models[0].Perms.Share {
		t.Errorf("perms of a listed model: %+v, %v", p.Models, err)
	}
	for _, bad := range []ListOptions{{Sharing: "everyone"}, {Limit: -1}, {Limit: 100000}, {After: "!!"}} {
		_, err := e.reg.List(as(alice), bad)
		mustKind(t, fmt.Sprintf("list %+v", bad), err, "invalid")
	}
}
