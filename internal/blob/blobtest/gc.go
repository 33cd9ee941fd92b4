package blobtest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/errdefs"
)

func list(t *testing.T, s blob.Store) map[blob.Digest]blob.Info {
	t.Helper()
	out := map[blob.Digest]blob.Info{}
	if err := s.List(context.Background(), func(i blob.Info) error {
		if _, dup := out[i.Digest]; dup {
			t.Errorf("List gave %s twice", i.Digest)
		}
		out[i.Digest] = i
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	return out
}

func testList(t *testing.T, s blob.Store) {
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("List of an empty store = %v", got)
	}
	before := time.Now().Add(-time.Minute)
	a := put(t, s, []byte("a"))
	b := put(t, s, []byte("bb"))
	put(t, s, []byte("bb"))
	got := list(t, s)
	if len(got) != 2 || got[a].Size != 1 || got[b].Size != 2 {
		t.Fatalf("List = %v, want %s (1 byte) and %s (2 bytes)", got, a, b)
	}
	for d, i := range got {
		if i.Used.Before(before) || i.Used.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: Used = %v, want about now", d, i.Used)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.List(context.Background(), func(blob.Info) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with fn failing = %v after %d calls, want the error after 1", err, n)
	}
}

// after waits until the clock has passed t, so that a cutoff taken now is
// strictly later than a blob's Used time, whatever the store's timestamp
// granularity.
func after(t *testing.T, ts time.Time) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !time.Now().After(ts) {
		if time.Now().After(deadline) {
			t.Fatalf("the clock did not pass %v", ts)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Now()
}

func testDeleteUnused(t *testing.T, s blob.Store) {
	ctx := context.Background()
	old := put(t, s, []byte("old and unreferenced"))
	cutoff := after(t, list(t, s)[old].Used)
	young := put(t, s, []byte("just written"))
	if ok, size, err := s.DeleteUnused(ctx, old, cutoff); err != nil || !ok || size != int64(len("old and unreferenced")) {
		t.Fatalf("DeleteUnused(blob written before the cutoff) = %v, %d, %v; want true, its size, nil", ok, size, err)
	}
	assertMissing(t, s, old)
	if ok, _, err := s.DeleteUnused(ctx, young, cutoff); err != nil || ok {
		t.Fatalf("DeleteUnused(blob written after the cutoff) = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.Stat(ctx, young); err != nil {
		t.Fatalf("young blob was removed: %v", err)
	}
	if ok, _, err := s.DeleteUnused(ctx, old, time.Now()); err != nil || ok {
		t.Fatalf("DeleteUnused(missing blob) = %v, %v; want false, nil", ok, err)
	}
	if _, _, err := s.DeleteUnused(ctx, "sha256:../x", time.Now()); !errdefs.IsInvalid(err) {
		t.Fatalf("DeleteUnused(bad digest) error = %v, want ErrInvalid", err)
	}
	// A Put of bytes already stored marks them as used again.
	again := put(t, s, []byte("written twice"))
	cutoff = after(t, list(t, s)[again].Used)
	put(t, s, []byte("written twice"))
	if ok, _, err := s.DeleteUnused(ctx, again, cutoff); err != nil || ok {
		t.Fatalf("DeleteUnused(blob stored again after the cutoff) = %v, %v; want false, nil", ok, err)
	}
}

// testDeleteUnusedKeepsChecked: a writer that finds a blob already stored
// (Stat, Missing) and is about to reference it must not lose it to a
// collection whose cutoff came before the check.
func testDeleteUnusedKeepsChecked(t *testing.T, s blob.Store) {
	ctx := context.Background()
	a := put(t, s, []byte("checked with Stat"))
	b := put(t, s, []byte("checked with Missing"))
	infos := list(t, s)
	last := infos[a].Used
	if infos[b].Used.After(last) {
		last = infos[b].Used
	}
	cutoff := after(t, last)
	if _, err := s.Stat(ctx, a); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Missing(ctx, []blob.Digest{b}); err != nil || len(m) != 0 {
		t.Fatalf("Missing = %v, %v", m, err)
	}
	for _, d := range []blob.Digest{a, b} {
		if ok, _, err := s.DeleteUnused(ctx, d, cutoff); err != nil || ok {
			t.Errorf("DeleteUnused(%s checked after the cutoff) = %v, %v; want false, nil", d, ok, err)
		}
	}
	if got := list(t, s); len(got) != 2 {
		t.Fatalf("List after DeleteUnused = %v, want both blobs", got)
	}
}

func testTrackCreated(t *testing.T, s blob.Store) {
	existing := put(t, s, []byte("stored before"))
	ctx, created := blob.TrackCreated(context.Background())
	if _, _, err := s.Put(ctx, bytes.NewReader([]byte("stored before"))); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.Put(ctx, bytes.NewReader([]byte("new under the tracker")))
	if err != nil {
		t.Fatal(err)
	}
	v := blob.FromBytes([]byte("verified and new"))
	if _, err := s.PutVerified(ctx, v, bytes.NewReader([]byte("verified and new"))); err != nil {
		t.Fatal(err)
	}
	put(t, s, []byte("new, not tracked"))
	got := created.Blobs()
	if len(got) != 2 {
		t.Fatalf("Created = %v, want %s and %s only", got, d, v)
	}
	if _, ok := got[existing]; ok {
		t.Errorf("a blob stored before was noted as created")
	}
	used := list(t, s)
	for _, want := range []blob.Digest{d, v} {
		if at, ok := got[want]; !ok || at.Before(used[want].Used) {
			t.Errorf("created %s at %v, want noted no earlier than its Used time %v", want, at, used[want].Used)
		}
	}
}
