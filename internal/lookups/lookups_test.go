package lookups_test

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/lookups"
	"github.com/dockyard/dockyard/internal/search"
	"github.com/dockyard/dockyard/internal/store/sqlite"
)

const xCSV = "a,b,c\n1,10,red\n2,20,blue\n3,30,red\n4,40,blue\n5,50,red\n"

type env struct {
	svc   *lookups.Service
	audit *audit.Memory
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "dockyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &audit.Memory{}
	return &env{svc: lookups.New(db, blobs, rec, lookups.Config{MaxBytes: 1 << 20}, nil), audit: rec}
}

// user is a principal in app, a member (read and write) of the apps search
// and sales; one with the role "reader" may only read them.
func user(name, app string, roles ...string) context.Context {
	w := !slices.Contains(roles, "reader")
	apps := access.AppSet{"search": {Read: true, Write: w}, "sales": {Read: true, Write: w}}
	return access.WithPrincipal(context.Background(), &access.Principal{User: name, Roles: roles, App: app, Caps: access.CapSet{}, Apps: apps})
}

var (
	alice = user("alice", "search", "user")
	bob   = user("bob", "search", "user")
	carol = user("carol", "search", "power", "user")
	dave  = user("dave", "sales", "power")
)

func (e *env) search(t *testing.T, ctx context.Context, src string) (*search.Result, error) {
	t.Helper()
	return search.Collect(ctx, src, &search.Env{App: access.FromContext(ctx).App, Lookups: e.svc})
}

func TestInputlookupOnUploadedLookup(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Upload(alice, "search", "x.csv", strings.NewReader(xCSV)); err != nil {
		t.Fatal(err)
	}
	res, err := e.search(t, alice, "| inputlookup x.csv | where a > 2 | stats avg(b) by c")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range res.Rows {
		got = append(got, r.Get("c").String()+"="+r.Get("avg(b)").String())
	}
	if strings.Join(got, " ") != "blue=40 red=40" {
		t.Fatalf("got %v", got)
	}
	// bob may not read alice's private lookup: it does not exist for him.
	_, err = e.search(t, bob, "| inputlookup x.csv | where a > 2 | stats avg(b) by c")
	if !errdefs.IsNotFound(err) || err.Error() != "lookup not found: x.csv" {
		t.Fatalf("bob: got %v", err)
	}
}

func TestSharingAndReadRoles(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Upload(alice, "search", "x.csv", strings.NewReader(xCSV)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Share(bob, "search", "x.csv", access.SharingApp, nil, nil); !errdefs.IsNotFound(err) {
		t.Fatalf("bob shares a lookup he cannot see: %v", err)
	}
	if _, err := e.svc.Share(alice, "search", "x.csv", access.SharingApp, []string{"power"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  context.Context
		name string
		ok   bool
	}{
		{alice, "owner", true},
		{carol, "power role in the app", true},
		{bob, "without the read role", false},
		{dave, "power role in another app", false},
	} {
		_, err := e.search(t, tc.who, "| inputlookup x.csv")
		if tc.ok != (err == nil) {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if !tc.ok && err.Error() != "lookup not found: x.csv" {
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
	// carol may read but not write it.
	_, err := e.search(t, carol, "| makeresults | eval a = 1 | outputlookup x.csv")
	if !errdefs.IsPermissionDenied(err) {
		t.Fatalf("carol writes: %v", err)
	}
	denied := false
	for _, ev := range e.audit.Events() {
		denied = denied || ev.Action == "lookup.write" && ev.Result == audit.ResultDenied && ev.User == "carol"
	}
	if !denied {
		t.Fatalf("the refused write was not audited: %+v", e.audit.Events())
	}
	// Global sharing reaches other apps.
	if _, err := e.svc.Share(alice, "search", "x.csv", access.SharingGlobal, []string{"power"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.search(t, dave, "| inputlookup x.csv"); err != nil {
		t.Fatalf("dave reads the global lookup: %v", err)
	}
}

func TestPrecedencePrivateFirst(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Upload(alice, "search", "x.csv", strings.NewReader("v\nshared\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Share(alice, "search", "x.csv", access.SharingApp, nil, nil); err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context) string {
		rc, err := e.svc.Open(ctx, "search", "x.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return strings.TrimSpace(strings.TrimPrefix(string(b), "v\n"))
	}
	if got := read(bob); got != "shared" {
		t.Fatalf("bob before his own: %q", got)
	}
	// bob may not write the shared one: outputlookup is refused.
	if _, err := e.search(t, bob, `| makeresults | eval v = "bob" | fields v | outputlookup x.csv`); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("bob overwrites the app's lookup: %v", err)
	}
	// outputlookup of a new name creates bob's private lookup.
	if _, err := e.search(t, bob, `| makeresults | eval v = "bob" | fields v | outputlookup y.csv`); err != nil {
		t.Fatal(err)
	}
	if got := e.listNames(t, bob); got != "x.csv@search:app y.csv@search:user" {
		t.Fatalf("bob lists %q", got)
	}
	if got := e.listNames(t, alice); got != "x.csv@search:app" {
		t.Fatalf("alice lists %q", got)
	}
	// An upload of the same name makes bob a private lookup, which wins
	// for him only.
	if _, err := e.svc.Upload(bob, "search", "x.csv", strings.NewReader("v\nbob-private\n")); err != nil {
		t.Fatal(err)
	}
	if got, got2 := read(bob), read(alice); got != "bob-private" || got2 != "shared" {
		t.Fatalf("bob reads %q, alice reads %q", got, got2)
	}
	if err := e.svc.Delete(bob, "search", "x.csv"); err != nil {
		t.Fatal(err)
	}
	// With the write role, bob's upload updates the shared lookup.
	if _, err := e.svc.Share(alice, "search", "x.csv", access.SharingApp, nil, []string{"user"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Upload(bob, "search", "x.csv", strings.NewReader("v\nnow-written-by-bob\n")); err != nil {
		t.Fatal(err)
	}
	if got := read(alice); got != "now-written-by-bob" {
		t.Fatalf("bob with write role updates the shared lookup: alice reads %q", got)
	}
}

func (e *env) listNames(t *testing.T, ctx context.Context) string {
	ls, err := e.svc.List(ctx, "search")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Name+"@"+l.App+":"+string(l.Sharing))
	}
	return strings.Join(out, " ")
}

func TestMalformedCSV(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ body, want string }{
		{"a,b\n1,2\n3\n", "lookup bad.csv: line 3: wrong number of fields"},
		{"a,b\n1,\"x\n", "lookup bad.csv: line 2"},
		{"", "lookup bad.csv is empty"},
		{"a,a\n1,2\n", `column "a" appears twice`},
		{"a,,c\n", "column 2 has no name"},
	} {
		_, err := e.svc.Upload(alice, "search", "bad.csv", strings.NewReader(tc.body))
		if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.body, err, tc.want)
		}
	}
	if _, err := e.svc.Upload(alice, "search", "../evil.csv", strings.NewReader("a\n")); !errdefs.IsInvalid(err) {
		t.Errorf("bad name: %v", err)
	}
	big := "a\n" + strings.Repeat("1\n", 1<<20)
	if _, err := e.svc.Upload(alice, "search", "big.csv", strings.NewReader(big)); !errdefs.IsLimit(err) {
		t.Errorf("over MaxBytes: %v", err)
	}
	if _, err := e.svc.Open(context.Background(), "search", "x.csv"); !errdefs.IsUnauthenticated(err) {
		t.Errorf("no principal: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Upload(alice, "search", "x.csv", strings.NewReader(xCSV)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Share(alice, "search", "x.csv", access.SharingApp, nil, []string{"user"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(bob, "search", "x.csv"); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("bob deletes: %v", err)
	}
	if err := e.svc.Delete(alice, "search", "x.csv"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Open(alice, "search", "x.csv"); !errdefs.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

// TestFetchIsOneVersion reads the metadata and the content of a lookup in
// one resolution: the content is the one the digest and size name, even
// when the lookup is replaced while the reader is open.
func TestFetchIsOneVersion(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Upload(alice, "", "x.csv", strings.NewReader(xCSV)); err != nil {
		t.Fatal(err)
	}
	l, rc, err := e.svc.Fetch(alice, "", "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := e.svc.Upload(alice, "", "x.csv", strings.NewReader("a\n1\n")); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != xCSV || l.Size != int64(len(xCSV)) {
		t.Fatalf("fetched %d bytes %q (size %d), %v; want the version the metadata names", len(b), b, l.Size, err)
	}
	if _, _, err := e.svc.Fetch(bob, "", "x.csv"); !errdefs.IsNotFound(err) || err.Error() != "lookup not found: x.csv" {
		t.Fatalf("bob fetches alice's private lookup: %v", err)
	}
}

// TestAppMembership: sharing into an app needs write on it, and a caller
// who may not read an app gets "app not found" for it, as for a missing one.
func TestAppMembership(t *testing.T) {
	e := newEnv(t)
	reader := user("rita", "search", "user", "reader")
	if _, err := e.svc.Upload(reader, "search", "r.csv", strings.NewReader(xCSV)); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Share(reader, "search", "r.csv", access.SharingApp, nil, nil)
	if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "write permission on app search") {
		t.Fatalf("a reader sharing into search: %v; want permission denied naming the app", err)
	}
	if evs := e.audit.Events(); len(evs) == 0 || evs[len(evs)-1].Result != audit.ResultDenied || evs[len(evs)-1].Action != "lookup.share" {
		t.Errorf("refused share not audited: %+v", evs)
	}
	if _, err := e.svc.Share(alice, "search", "r.csv", access.SharingApp, nil, nil); !errdefs.IsNotFound(err) {
		t.Errorf("alice sharing rita's private lookup: %v", err)
	}
	_, errHR := e.svc.Get(alice, "hr", "r.csv")
	_, errNone := e.svc.Get(alice, "nope", "r.csv")
	if errHR == nil || errHR.Error() != "app not found: hr" || errNone.Error() != "app not found: nope" {
		t.Errorf("lookup in an app alice may not read: %v / %v", errHR, errNone)
	}
}
