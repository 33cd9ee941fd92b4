package models

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockyard/dockyard/internal/blob"
)

// TestConcurrentRegistration registers from 20 goroutines into a model that
// does not exist yet: every version lands, with distinct numbers 1..20.
func TestConcurrentRegistration(t *testing.T) {
	e := newEnv(t, Options{})
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]Version, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			content := fmt.Sprintf("weights of fit %d", i)
			got[i], errs[i] = e.reg.RegisterVersion(as(bob), ref(t, "app:Busy"), VersionInput{
				Algo: "nb", Files: []File{{Path: "w.bin", Digest: blob.FromBytes([]byte(content)), Reader: strings.NewReader(content)}},
			})
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
		if seen[got[i].Version] {
			t.Fatalf("version %d handed out twice", got[i].Version)
		}
		seen[got[i].Version] = true
	}
	vs, err := e.reg.Versions(as(bob), ref(t, "app:Busy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != n {
		t.Fatalf("found %d versions, want %d", len(vs), n)
	}
	digests := map[blob.Digest]bool{}
	for i, v := range vs {
		if v.Version != n-i {
			t.Errorf("versions[%d] = %d, want %d (newest first)", i, v.Version, n-i)
		}
		digests[v.Digest] = true
	}
	if len(digests) != n {
		t.Errorf("%d distinct manifests, want %d", len(digests), n)
	}
	hist, err := e.reg.History(as(bob), ref(t, "app:Busy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != n {
		t.Errorf("history has %d moves, want %d", len(hist), n)
	}
}

// TestAliasesRollbackHistory walks versions, aliases, rollback and history.
func TestAliasesRollbackHistory(t *testing.T) {
	e := newEnv(t, Options{})
	for i := 1; i <= 3; i++ {
		e.register(t, alice, "app:M", fmt.Sprintf("algo%d", i), fmt.Sprintf("v%d", i))
	}
	resolves := func(refText string, want int) {
		t.Helper()
		_, v, err := e.reg.Resolve(as(dave), ref(t, refText))
		if err != nil || v.Version != want {
			t.Fatalf("%s resolves to %d (%v), want %d", refText, v.Version, err, want)
		}
	}
	resolves("app:M", 3)
	if _, err := e.reg.SetAlias(as(alice), ref(t, "app:M"), "production", 2, "validated"); err != nil {
		t.Fatal(err)
	}
	resolves("app:M@production", 2)
	resolves("app:M@1", 1)
	resolves("app:M@current", 3)
	_, _, err := e.reg.Resolve(as(dave), ref(t, "app:M@staging"))
	mustKind(t, "unknown alias", err, "notfound")
	_, _, err = e.reg.Resolve(as(dave), ref(t, "app:M@9"))
	mustKind(t, "unknown version", err, "notfound")

	mv, err := e.reg.Rollback(as(alice), ref(t, "app:M"), 1, "v3 is broken")
	if err != nil || mv.From != 3 || mv.To != 1 {
		t.Fatalf("rollback: %+v, %v", mv, err)
	}
	resolves("app:M", 1)
	s, err := e.reg.Show(as(dave), ref(t, "app:M"))
	if err != nil || s.Version != 1 || s.Algo != "algo1" || s.Aliases["production"] != 2 || s.Aliases["current"] != 1 {
		t.Fatalf("show after rollback: %+v, %v", s, err)
	}
	_, err = e.reg.Rollback(as(alice), ref(t, "app:M"), 99, "")
	mustKind(t, "rollback to a missing version", err, "notfound")
	_, err = e.reg.Rollback(as(dave), ref(t, "app:M"), 2, "")
	mustKind(t, "rollback without write permission", err, "denied")
	_, err = e.reg.SetAlias(as(alice), ref(t, "app:M"), "9bad", 1, "")
	mustKind(t, "bad alias name", err, "invalid")

	e.register(t, alice, "app:M", "algo4", "v4")
	resolves("app:M", 4)

	hist, err := e.reg.History(as(dave), ref(t, "app:M"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, fmt.Sprintf("%s %d>%d %s %s", h.Alias, h.From, h.To, h.User, h.Reason))
		if h.Time.IsZero() {
			t.Errorf("move %+v has no time", h)
		}
	}
	want := []string{
		"current 0>1 alice new version", "current 1>2 alice new version", "current 2>3 alice new version",
		"production 0>2 alice validated", "current 3>1 alice v3 is broken", "current 1>4 alice new version",
	}
	if !slices.Equal(got, want) {
		t.Errorf("history:\n got %q\nwant %q", got, want)
	}
	if _, err := e.reg.RemoveAlias(as(alice), ref(t, "app:M"), "production", "retired"); err != nil {
		t.Fatal(err)
	}
	_, err = e.reg.RemoveAlias(as(alice), ref(t, "app:M"), AliasCurrent, "")
	mustKind(t, "remove current", err, "invalid")

	vs, err := e.reg.Versions(as(dave), ref(t, "app:M"))
	if err != nil || len(vs) != 4 || !slices.Equal(vs[0].Aliases, []string{"current"}) {
		t.Fatalf("versions: %+v, %v", vs, err)
	}
}

// TestVersionsImmutableAndVerified: a truncated upload registers nothing;
// file contents and lineage come back as registered.
func TestVersionsImmutableAndVerified(t *testing.T) {
	e := newEnv(t, Options{})
	full := []byte("the complete model weights")
	_, err := e.reg.RegisterVersion(as(alice), ref(t, "app:T"), VersionInput{
		Files: []File{{Path: "w.bin", Digest: blob.FromBytes(full), Reader: bytes.NewReader(full[:10])}},
	})
	mustKind(t, "truncated upload", err, "invalid")
	if err == nil || !strings.Contains(err.Error(), `"w.bin"`) {
		t.Errorf("error %v does not name the file", err)
	}
	_, err = e.reg.Show(as(alice), ref(t, "app:T"))
	mustKind(t, "model after a failed first upload", err, "notfound")
	_, err = e.reg.RegisterVersion(as(alice), ref(t, "app:T"), VersionInput{
		Files: []File{{Path: "w.bin", Size: int64(len(full)), Reader: bytes.NewReader(full[:10])}},
	})
	mustKind(t, "short upload with a size", err, "invalid")
	for _, bad := range []string{"../x", "/abs", "a/../b", ""} {
		_, err = e.reg.RegisterVersion(as(alice), ref(t, "app:T"), VersionInput{Files: []File{{Path: bad, Reader: strings.NewReader("x")}}})
		mustKind(t, "path "+bad, err, "invalid")
	}
	_, err = e.reg.RegisterVersion(as(alice), ref(t, "app:T@2"), VersionInput{Files: []File{{Path: "a", Reader: strings.NewReader("x")}}})
	mustKind(t, "register into a version", err, "invalid")

	lin := Lineage{Notebook: "nb", NotebookDigest: "sha256:ab", Image: "img", ImageDigest: "sha256:cd", Container: "c1",
		Runtime: "process", Rows: 150, Features: []string{"a", "b"}, Target: "y", DataFingerprint: "fp"}
	v, err := e.reg.RegisterVersion(as(alice), ref(t, "app:T"), VersionInput{
		Algo: "nb", Params: map[string]string{"epochs": "10"}, FitInfo: map[string]any{"score": 0.5}, Lineage: lin,
		Files: []File{
			{Path: "z/2.bin", Reader: strings.NewReader("two")},
			{Path: "1.bin", Digest: blob.FromBytes(full), Reader: bytes.NewReader(full)},
		},
	})
	if err != nil || v.Version != 1 || v.Files != 2 || v.Size != int64(len(full)+3) {
		t.Fatalf("register: %+v, %v", v, err)
	}
	s, err := e.reg.Show(as(bob), ref(t, "app:T@1"))
	if err != nil || s.Rows != 150 || s.Target != "y" || s.Params["epochs"] != "10" || s.FitInfo["score"] != 0.5 ||
		s.ImageDigest != "sha256:cd" || !slices.Equal(s.Features, []string{"a", "b"}) || s.Digest != string(v.Digest) {
		t.Fatalf("show: %+v, %v", s, err)
	}
	_, files, err := e.reg.Files(as(bob), ref(t, "app:T"))
	if err != nil || len(files) != 2 || files[0].Path != "1.bin" || files[1].Path != "z/2.bin" {
		t.Fatalf("files: %+v, %v", files, err)
	}
	rc, err := e.reg.OpenFile(as(bob), ref(t, "app:T"), files[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	if !bytes.Equal(buf.Bytes(), full) {
		t.Errorf("file content %q, want %q", buf.Bytes(), full)
	}
	_, err = e.reg.OpenFile(as(bob), ref(t, "app:T"), blob.FromBytes([]byte("not in it")))
	mustKind(t, "open a digest of another version", err, "notfound")
	// The manifest digest is the digest of the canonical manifest.
	_, d, _ := Manifest{Files: files}.Canonical()
	if d != v.Digest {
		t.Errorf("manifest digest %s, want %s", d, v.Digest)
	}
}

// TestRetentionKeepsAliased keeps the newest N and every aliased version.
func TestRetentionKeepsAliased(t *testing.T) {
	e := newEnv(t, Options{KeepVersions: 3})
	e.register(t, alice, "R", "a", "v1")
	if _, err := e.reg.SetAlias(as(alice), ref(t, "R"), "production", 1, "golden"); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 6; i++ {
		e.register(t, alice, "R", "a", fmt.Sprintf("v%d", i))
	}
	versionsOf := func() []int {
		vs, err := e.reg.Versions(as(alice), ref(t, "R"))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, v := range vs {
			out = append(out, v.Version)
		}
		return out
	}
	if got := versionsOf(); !slices.Equal(got, []int{6, 5, 4, 1}) {
		t.Fatalf("after retention: %v, want [6 5 4 1]", got)
	}
	// Rolling back to a pruned version is a clear not-found.
	_, err := e.reg.Rollback(as(alice), ref(t, "R"), 2, "")
	mustKind(t, "rollback to a pruned version", err, "notfound")
	// Once the alias is gone, the next registration prunes version 1.
	if _, err := e.reg.RemoveAlias(as(alice), ref(t, "R"), "production", ""); err != nil {
		t.Fatal(err)
	}
	e.register(t, alice, "R", "a", "v7")
	if got := versionsOf(); !slices.Equal(got, []int{7, 6, 5}) {
		t.Fatalf("after removing the alias: %v, want [7 6 5]", got)
	}
	// A rollback target is kept only while current points at it; numbers are never reused.
	if _, err := e.reg.Rollback(as(alice), ref(t, "R"), 5, ""); err != nil {
		t.Fatal(err)
	}
	for i := 8; i <= 10; i++ {
		e.register(t, alice, "R", "a", fmt.Sprintf("v%d", i))
	}
	if got := versionsOf(); !slices.Equal(got, []int{10, 9, 8}) {
		t.Fatalf("after more versions: %v, want [10 9 8]", got)
	}
	pruned := 0
	for _, ev := range e.audit.Events() {
		if ev.Action == "model.version.prune" {
			pruned++
		}
	}
	if pruned == 0 {
		t.Errorf("retention left no audit event")
	}
}

// TestRegisterForAnotherOwnerCreatesNothing: naming an owner whose model
// does not exist must not create one owned by the caller.
func TestRegisterForAnotherOwnerCreatesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	r := ref(t, "Churn")
	r.Owner = "alice"
	_, err := e.reg.RegisterVersion(as(admin), r, VersionInput{Files: []File{{Path: "a", Reader: strings.NewReader("x")}}})
	mustKind(t, "registering into alice's missing model as admin", err, "notfound")
	if _, err := e.reg.Show(as(admin), ref(t, "Churn")); err == nil {
		t.Fatal("a model was created for the admin")
	}
}
