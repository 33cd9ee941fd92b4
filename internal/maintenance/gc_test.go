package maintenance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/maintenance"
	"github.com/dockyard/dockyard/internal/models"
	"github.com/dockyard/dockyard/internal/store"
)

// refs is a BlobRefStore whose answer the test sets; hook, when set, runs
// after the answer is computed (a writer committing meanwhile).
type refs struct {
	direct, manifests []string
	hook              func()
}

func (r *refs) BlobReferences(context.Context) (store.BlobRefs, error) {
	out := store.BlobRefs{Direct: append([]string(nil), r.direct...), Manifests: append([]string(nil), r.manifests...)}
	if r.hook != nil {
		r.hook()
		r.hook = nil
	}
	return out, nil
}

func newBlobs(t *testing.T) *blobfs.Store {
	t.Helper()
	bs, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	return bs
}

func put(t *testing.T, bs blob.Store, s string) blob.Digest {
	t.Helper()
	d, _, err := bs.Put(context.Background(), strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// age makes every stored blob look last used two hours ago.
func age(t *testing.T, bs *blobfs.Store) {
	t.Helper()
	old := time.Now().Add(-2 * time.Hour)
	err := filepath.Walk(filepath.Join(bs.Root(), "sha256"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, bs blob.Store) (map[blob.Digest]int64, int64) {
	t.Helper()
	out := map[blob.Digest]int64{}
	var total int64
	if err := bs.List(context.Background(), func(i blob.Info) error {
		out[i.Digest] = i.Size
		total += i.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out, total
}

func manifest(t *testing.T, bs blob.Store, files ...blob.Digest) blob.Digest {
	t.Helper()
	var m models.Manifest
	for i, d := range files {
		m.Files = append(m.Files, models.File{Path: "f" + string(rune('a'+i)), Digest: d})
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := bs.Put(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGCDeletesOnlyUnreferenced(t *testing.T) {
	ctx := context.Background()
	bs := newBlobs(t)
	lookup := put(t, bs, "a,b\n1,2\n")
	file1, file2 := put(t, bs, "weights"), put(t, bs, "config")
	man := manifest(t, bs, file1, file2)
	garbage := []blob.Digest{put(t, bs, "refused import"), put(t, bs, "deleted model's file")}
	age(t, bs)
	young := put(t, bs, "upload in flight")

	s := &maintenance.Service{Store: &refs{direct: []string{string(lookup)}, manifests: []string{string(man)}}, Blobs: bs, Grace: time.Hour}
	res, err := s.GC(ctx, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, total := stored(t, bs)
	for _, d := range garbage {
		if _, ok := got[d]; ok {
			t.Errorf("unreferenced old blob %s survived", d)
		}
	}
	for _, d := range []blob.Digest{lookup, file1, file2, man, young} {
		if _, ok := got[d]; !ok {
			t.Errorf("blob %s was deleted", d)
		}
	}
	if res.Deleted != 2 || res.Live != 4 || res.Recent != 1 || res.MissingRefs != 0 {
		t.Errorf("result = %+v, want 2 deleted, 4 live, 1 recent", res)
	}
	if res.DeletedBytes != int64(len("refused import")+len("deleted model's file")) {
		t.Errorf("deleted bytes = %d", res.DeletedBytes)
	}
	if total != res.LiveBytes+res.RecentBytes {
		t.Errorf("bytes stored after GC = %d, want live %d + recent %d", total, res.LiveBytes, res.RecentBytes)
	}

	// With no grace, the young unreferenced blob goes too: what is left is
	// exactly what is referenced.
	if _, err := s.GC(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, total := stored(t, bs); total != res.LiveBytes {
		t.Errorf("bytes stored after GC with no grace = %d, want the live %d", total, res.LiveBytes)
	}
}

// TestGCKeepsBlobsWrittenDuringCollection puts a writer between the mark
// and the sweep: it checks an old unreferenced blob (Stat, as a registration
// that reuses stored files does), stores bytes equal to another old one
// (Put), and only then commits its references. Both blobs must survive.
func TestGCKeepsBlobsWrittenDuringCollection(t *testing.T) {
	ctx := context.Background()
	bs := newBlobs(t)
	reused := put(t, bs, "file an upload reuses")
	rewritten := put(t, bs, "file an upload writes again")
	garbage := put(t, bs, "garbage")
	age(t, bs)
	r := &refs{}
	r.hook = func() {
		if _, err := bs.Stat(ctx, reused); err != nil {
			t.Error(err)
		}
		put(t, bs, "file an upload writes again")
		r.direct = append(r.direct, string(reused), string(rewritten)) // committed after the mark
	}
	s := &maintenance.Service{Store: r, Blobs: bs, Grace: time.Minute}
	res, err := s.GC(ctx, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := stored(t, bs)
	for _, d := range []blob.Digest{reused, rewritten} {
		if _, ok := got[d]; !ok {
			t.Errorf("blob %s, used by a writer during the collection, was deleted", d)
		}
	}
	if _, ok := got[garbage]; ok || res.Deleted != 1 {
		t.Errorf("garbage survived, or the count is off: %+v", res)
	}
}

func TestGCStopsOnUnreadableManifest(t *testing.T) {
	ctx := context.Background()
	bs := newBlobs(t)
	garbage := put(t, bs, "garbage")
	notJSON := put(t, bs, "this is not a manifest")
	age(t, bs)
	s := &maintenance.Service{Store: &refs{manifests: []string{string(notJSON)}}, Blobs: bs, Grace: time.Minute}
	if _, err := s.GC(ctx, -1); err == nil || !strings.Contains(err.Error(), "nothing was deleted") {
		t.Fatalf("GC with an unreadable manifest = %v, want it to stop", err)
	}
	if got, _ := stored(t, bs); len(got) != 2 {
		t.Fatalf("blobs after a stopped GC = %v, want %s kept", got, garbage)
	}
	// A referenced manifest that is missing is reported, not fatal.
	s.Store = &refs{manifests: []string{string(blob.FromBytes([]byte("gone")))}}
	res, err := s.GC(ctx, -1)
	if err != nil || res.MissingRefs != 1 {
		t.Fatalf("GC with a missing manifest = %+v, %v; want 1 missing reference", res, err)
	}
}

// TestDiscardCreated: a failed request's new blobs go, unless something
// references one or another writer stored or checked it since.
func TestDiscardCreated(t *testing.T) {
	bs := newBlobs(t)
	ctx, created := blob.TrackCreated(context.Background())
	mine := func(s string) blob.Digest {
		d, _, err := bs.Put(ctx, strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	alone, referenced, checked, rewritten := mine("only mine"), mine("referenced meanwhile"), mine("checked by another upload"), mine("written by another upload")
	// Another writer, after this request's writes (its own clock reading
	// must come later than the writes: wait for that).
	last := time.Time{}
	for _, at := range created.Blobs() {
		if at.After(last) {
			last = at
		}
	}
	for !time.Now().After(last) {
		time.Sleep(time.Millisecond)
	}
	if _, err := bs.Stat(context.Background(), checked); err != nil {
		t.Fatal(err)
	}
	put(t, bs, "written by another upload")
	s := &maintenance.Service{Store: &refs{direct: []string{string(referenced)}}, Blobs: bs, Grace: time.Hour}
	n, size, err := s.DiscardCreated(context.Background(), created.Blobs())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || size != int64(len("only mine")) {
		t.Errorf("DiscardCreated = %d blobs, %d bytes; want the one only this request used", n, size)
	}
	got, _ := stored(t, bs)
	if _, ok := got[alone]; ok {
		t.Error("the failed request's own blob survived")
	}
	for _, d := range []blob.Digest{referenced, checked, rewritten} {
		if _, ok := got[d]; !ok {
			t.Errorf("blob %s, in use by others, was discarded", d)
		}
	}
}
