package images

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

func testKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func mustPayload(t testing.TB, repo, digest string) []byte {
	t.Helper()
	p, err := signing.NewPayload(repo, digest)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegistrySignatures signs an image as cosign does (the signature
// image tagged sha256-<hex>.sig), adds the image, and checks that its
// signatures came with it and verify at a start with no registry left.
func TestRegistrySignatures(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := imagestest.Plain(t)
	digest := reg.Push(t, "golden:1")
	key := testKey(t)
	payload := mustPayload(t, reg.Host+"/golden", digest)
	sig, err := signing.SignPayload(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	other := mustPayload(t, reg.Host+"/golden", strings.Replace(digest, digest[len(digest)-4:], "0000", 1))
	osig, _ := signing.SignPayload(key, other)
	img, err := SignatureImage([]Sig{{Payload: payload, Signature: sig}, {Payload: other, Signature: osig}})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := SignatureTag(reg.Host+"/golden", digest)
	if err != nil {
		t.Fatal(err)
	}
	reg.PushImage(t, strings.TrimPrefix(tag.String(), reg.Host+"/"), img)

	ent, err := e.cat.NewEntry(ctx, "admin", AddRequest{Name: "golden", Ref: reg.Host + "/golden:1"})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := e.cat.FetchSignatures(ctx, "admin", ent)
	if err != nil || len(sigs) != 1 || sigs[0].Digest != digest || sigs[0].Source != SignatureFromRegistry {
		t.Fatalf("FetchSignatures = %+v, %v; want the one signature of %s", sigs, err, digest)
	}
	if err := e.cat.InTx(ctx, func(ctx context.Context) error {
		if err := e.cat.Create(ctx, ent); err != nil {
			return err
		}
		return e.cat.SaveSignatures(ctx, sigs)
	}); err != nil {
		t.Fatal(err)
	}
	req := true
	if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{RequireSignature: &req}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Keys().Add(ctx, "admin", "other", publicPEM(t, testKey(t))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Pin(ctx, "golden"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "none of its 1 signatures") {
		t.Fatalf("Pin with only another key trusted = %v", err)
	}
	if _, err := e.cat.Keys().Add(ctx, "admin", "release", publicPEM(t, key)); err != nil {
		t.Fatal(err)
	}
	if p, err := e.cat.Pin(ctx, "golden"); err != nil || !strings.Contains(p.Policy, "signed by release") {
		t.Fatalf("Pin = %+v, %v; want allowed, signed by release", p, err)
	}
	// An image without signatures has none, and no error.
	reg.Push(t, "plain:1")
	ent2, err := e.cat.NewEntry(ctx, "admin", AddRequest{Name: "plain", Ref: reg.Host + "/plain:1"})
	if err != nil {
		t.Fatal(err)
	}
	if sigs, err := e.cat.FetchSignatures(ctx, "admin", ent2); err != nil || len(sigs) != 0 {
		t.Fatalf("FetchSignatures of an unsigned image = %+v, %v", sigs, err)
	}
}

func TestNewSignatureInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.engine["golden:1"] = imageID
	if _, err := e.add(t, AddRequest{Name: "golden", Ref: "golden:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.NewSignature(ctx, "admin", "golden", mustPayload(t, "x.example/y", manifest), "c2ln"); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "is pinned to "+imageID) {
		t.Errorf("signature of another digest: %v", err)
	}
	if _, err := e.cat.NewSignature(ctx, "admin", "golden", []byte(`{"critical":{"type":"other"}}`), "c2ln"); !errdefs.IsInvalid(err) {
		t.Errorf("payload of another type: %v", err)
	}
	if _, err := e.cat.NewSignature(ctx, "admin", ProcessImage, mustPayload(t, "x.example/y", imageID), "c2ln"); !errdefs.IsInvalid(err) {
		t.Errorf("signature of the process image: %v", err)
	}
	// binds: a signature of a manifest binds an entry pinned to its config.
	m := `{"schemaVersion":2,"config":{"digest":"` + imageID + `"}}`
	s := store.ImageSignature{Digest: digestOf([]byte(m)), Manifest: m}
	if !binds(s, Entry{Digest: imageID}) || binds(s, Entry{Digest: manifest}) {
		t.Error("a manifest's signature must bind its config and nothing else")
	}
	s.Manifest = strings.Replace(m, "2", "3", 1)
	if binds(s, Entry{Digest: imageID}) {
		t.Error("a changed manifest must not bind")
	}
}
