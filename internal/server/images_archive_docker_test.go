package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestImagesLoadIntoDocker saves a signed registry image on one server
// and loads the archive into the Docker Engine of another, where the
// entry pins the engine's image id and the signature of the manifest
// still verifies, offline.
func TestImagesLoadIntoDocker(t *testing.T) {
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker Engine answers (%v: %s): images load into the engine needs one", err, bytes.TrimSpace(out))
	}
	ctx := context.Background()
	a, b := servertest.Start(t), servertest.Start(t)
	reg := imagestest.Plain(t)
	archive, digest, key := savedSignedImage(t, a, reg)
	local := images.LoadedTag(digest)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", local).Run() })
	im, err := b.Admin.LoadImage(ctx, bytes.NewReader(archive), "", "")
	if err != nil {
		t.Fatal(err)
	}
	id := dockerCmd(t, "", "image", "inspect", "-f", "{{.Id}}", local)
	if im.Name != "golden" || im.Source != "engine" || im.Ref != local || im.Digest != id {
		t.Fatalf("loaded = %+v; want the engine's image id %s of %s", im, id, local)
	}
	requireSignatureBy(t, b, key)
	if got, err := b.Admin.Image(ctx, "golden"); err != nil || !strings.Contains(got.Policy, "allowed: signed by release") {
		t.Fatalf("show after load = %+v, %v; want allowed, signed", got, err)
	}
	if !hasEvent(auditActions(t, b), `"image.load"`, digest) {
		t.Error("no image.load event naming the archive's digest")
	}
	// An engine entry saves too (docker save), and loads elsewhere by push.
	var again bytes.Buffer
	if _, err := b.Admin.SaveImage(ctx, "golden", &again); err != nil {
		t.Fatal(err)
	}
	back, err := a.Admin.LoadImage(ctx, bytes.NewReader(again.Bytes()), "golden-back", reg.Host+"/back")
	if err != nil {
		t.Fatal(err)
	}
	if back.Source != "registry" || !strings.HasPrefix(back.RunRef, reg.Host+"/back@sha256:") {
		t.Fatalf("loaded back = %+v", back)
	}
}

// savedSignedImage pushes an image and its cosign signature to reg, adds
// it to server a's catalogue as golden and returns the archive `images
// save` writes of it, its digest and the signing key.
func savedSignedImage(t *testing.T, a *servertest.Harness, reg *imagestest.Registry) ([]byte, string, *ecdsa.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	digest := reg.Push(t, "golden:1")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := signing.NewPayload(reg.Host+"/golden", digest)
	sig, _ := signing.SignPayload(key, payload)
	si, _ := images.SignatureImage([]images.Sig{{Payload: payload, Signature: sig}})
	tag, _ := images.SignatureTag(reg.Host+"/golden", digest)
	reg.PushImage(t, strings.TrimPrefix(tag.String(), reg.Host+"/"), si)
	if _, err := a.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden", Ref: reg.Host + "/golden:1"}); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := a.Admin.SaveImage(ctx, "golden", &archive); err != nil {
		t.Fatal(err)
	}
	return archive.Bytes(), digest, key
}

// requireSignatureBy has server b trust key (as "release") and require
// signatures of every image a container starts from.
func requireSignatureBy(t *testing.T, b *servertest.Harness, key *ecdsa.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	if _, err := b.Admin.AddImageKey(ctx, "release", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))); err != nil {
		t.Fatal(err)
	}
	req := true
	if _, err := b.Admin.SetImagePolicy(ctx, wire.ImagePolicyUpdate{RequireSignature: &req}); err != nil {
		t.Fatal(err)
	}
}
