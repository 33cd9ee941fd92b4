package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/signing"
)

// loadingEngine is an engine that loads `docker save` archives as the
// classic image store does: the image id is the config's digest.
type loadingEngine struct{ fakeEngine }

func (l loadingEngine) LoadImage(_ context.Context, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Name != "manifest.json" {
			continue
		}
		var m []struct {
			Config   string
			RepoTags []string
		}
		if err := json.NewDecoder(tr).Decode(&m); err != nil {
			return err
		}
		for _, t := range m[0].RepoTags {
			l.fakeEngine[t] = "sha256:" + strings.TrimPrefix(m[0].Config, "blobs/sha256/")
		}
	}
}

// store keeps a Loaded as the API does.
func (e *env) store(t *testing.T, l Loaded) {
	t.Helper()
	if err := e.cat.InTx(context.Background(), func(ctx context.Context) error {
		if err := e.cat.Create(ctx, l.Entry); err != nil {
			return err
		}
		if err := e.cat.SaveSignatures(ctx, l.Signatures); err != nil {
			return err
		}
		if l.Scan != nil {
			_, err := e.cat.StoreScan(ctx, *l.Scan)
			return err
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestArchiveRoundTrip saves a signed, scanned registry image on one data
// directory and loads it on two others (pushed to another registry, and
// into an engine), where it verifies offline; tampered archives are
// refused.
func TestArchiveRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := newEnv(t)
	reg := imagestest.Plain(t)
	digest := reg.Push(t, "golden:5.2")
	key := testKey(t)
	payload := mustPayload(t, reg.Host+"/golden", digest)
	sig, _ := signing.SignPayload(key, payload)
	si, _ := SignatureImage([]Sig{{Payload: payload, Signature: sig}})
	tag, _ := SignatureTag(reg.Host+"/golden", digest)
	reg.PushImage(t, strings.TrimPrefix(tag.String(), reg.Host+"/"), si)
	ent, err := src.cat.NewEntry(ctx, "admin", AddRequest{Name: "golden", Ref: reg.Host + "/golden:5.2", Title: "Golden", GPU: true})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := src.cat.FetchSignatures(ctx, "admin", ent)
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures = %v, %v", sigs, err)
	}
	src.store(t, Loaded{Entry: ent, Signatures: sigs})
	sc, _, err := src.cat.ImportScan(ctx, "admin", "golden", trivyReport(digest, time.Now().Add(-time.Hour), "CVE-2026-1:LOW"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.cat.StoreScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := src.cat.SaveArchive(ctx, "golden", &buf, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	archive := buf.Bytes()

	strict := Policy{MaxSeverity: "high", RequireScan: true, RequireSignature: true}
	verifies := func(e *env, name string) {
		t.Helper()
		if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{MaxSeverity: &strict.MaxSeverity, RequireScan: &strict.RequireScan, RequireSignature: &strict.RequireSignature}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cat.Keys().Add(ctx, "admin", "release", publicPEM(t, key)); err != nil {
			t.Fatal(err)
		}
		p, err := e.cat.Pin(ctx, name)
		if err != nil || !strings.Contains(p.Policy, "signed by release") || !strings.Contains(p.Policy, "nothing above high") {
			t.Fatalf("Pin(%s) after load = %+v, %v; want allowed, scanned and signed", name, p, err)
		}
	}

	t.Run("push", func(t *testing.T) {
		dst := newEnv(t) // another data directory, another registry
		other := imagestest.Plain(t)
		l, err := dst.cat.Load(ctx, "admin", bytes.NewReader(archive), LoadRequest{Push: other.Host + "/mirror/golden"}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if l.Entry.Name != "golden" || l.Entry.Digest != digest || l.Entry.Ref != other.Host+"/mirror/golden:5.2" || !l.Entry.GPU || l.Entry.Title != "Golden" ||
			len(l.Signatures) != 1 || l.Scan == nil || l.Scan.Digest != digest {
			t.Fatalf("Load = %+v", l)
		}
		dst.store(t, l)
		verifies(dst, "golden")
		// The signatures went to the new registry too: an entry added
		// there by reference finds them.
		again, err := dst.cat.NewEntry(ctx, "admin", AddRequest{Name: "golden2", Ref: other.Host + "/mirror/golden:5.2"})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := dst.cat.FetchSignatures(ctx, "admin", again); err != nil || len(s) != 1 {
			t.Fatalf("signatures in the new registry = %v, %v", s, err)
		}
		if _, err := dst.cat.Load(ctx, "admin", bytes.NewReader(archive), LoadRequest{Push: other.Host + "/mirror/golden"}, t.TempDir()); !errdefs.IsConflict(err) {
			t.Fatalf("loading over an entry = %v, want conflict", err)
		}
	})
	t.Run("engine", func(t *testing.T) {
		dst := newEnv(t)
		eng := loadingEngine{fakeEngine{}}
		dst.cat.o.Engines = map[string]runtime.ImageDigester{RuntimeDocker: eng}
		l, err := dst.cat.Load(ctx, "admin", bytes.NewReader(archive), LoadRequest{Name: "golden-loaded"}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if l.Entry.Source != SourceEngine || l.Entry.Digest == digest || l.Entry.Ref != LoadedTag(digest) || len(l.Signatures) != 1 || l.Signatures[0].Manifest == "" {
			t.Fatalf("Load into the engine = %+v", l)
		}
		dst.store(t, l)
		verifies(dst, "golden-loaded") // the signature of the manifest binds the image id, its config
	})
	t.Run("tampered", func(t *testing.T) {
		dst := newEnv(t)
		other := imagestest.Plain(t)
		for _, tc := range []struct {
			name   string
			change func(name string, b []byte) []byte
			want   string
		}{
			{"a layer byte", func(name string, b []byte) []byte {
				if strings.HasPrefix(name, "blobs/") && len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b { // a gzip layer
					b[len(b)/2] ^= 1
				}
				return b
			}, "changed or damaged: blob sha256:"},
			{"a manifest byte", func(name string, b []byte) []byte {
				if strings.HasPrefix(name, "blobs/") && bytes.Contains(b, []byte(`"layers"`)) && bytes.Contains(b, []byte("diff.tar.gzip")) {
					return bytes.Replace(b, []byte(`"size":`), []byte(`"size": `), 1)
				}
				return b
			}, "changed or damaged: blob sha256:"},
			{"index.json names a missing manifest", func(name string, b []byte) []byte {
				if name == "index.json" {
					var idx map[string]any
					_ = json.Unmarshal(b, &idx)
					m := idx["manifests"].([]any)[0].(map[string]any)
					m["digest"] = "sha256:" + strings.Repeat("0", 64)
					b, _ = json.Marshal(idx)
				}
				return b
			}, "is missing"},
			{"an extra file", nil, "is unexpected"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				bad := rewriteTar(t, archive, tc.change)
				_, err := dst.cat.Load(ctx, "admin", bytes.NewReader(bad), LoadRequest{Push: other.Host + "/golden"}, t.TempDir())
				if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Load = %v, want invalid saying %q", err, tc.want)
				}
			})
		}
		if list, _ := dst.cat.List(ctx); len(list) != 1 {
			t.Fatalf("a refused archive added entries: %+v", list)
		}
		if _, _, err := dst.cat.o.Registry.Resolve(ctx, other.Host+"/golden:5.2"); !errdefs.IsNotFound(err) {
			t.Fatalf("a refused archive was pushed: %v", err)
		}
	})
}

// rewriteTar copies a tar file through change (nil: append an extra
// entry).
func rewriteTar(t *testing.T, b []byte, change func(name string, b []byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if change != nil {
			body = change(h.Name, body)
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if change == nil {
		tw.WriteHeader(&tar.Header{Name: "../evil", Size: 1, Mode: 0o644, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
	}
	tw.Close()
	return out.Bytes()
}
