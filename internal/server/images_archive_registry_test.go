package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestImagesLoadPushPrivateRegistry loads a signed image archive into
// Debian's docker-registry (TLS, htpasswd; .ci/registry.sh): the image
// and its cosign signature image are pushed with the stored credentials,
// the entry verifies offline, and an entry added from that registry reads
// the signature back.
func TestImagesLoadPushPrivateRegistry(t *testing.T) {
	host := os.Getenv(EnvTestRegistry)
	if host == "" {
		t.Skipf("%s is not set: start a private registry with `eval \"$(bash .ci/registry.sh)\"` (Debian's docker-registry and apache2-utils) to test images load --push against it", EnvTestRegistry)
	}
	caPEM, err := os.ReadFile(os.Getenv("DOCKYARD_TEST_REGISTRY_CA"))
	if err != nil {
		t.Fatalf("DOCKYARD_TEST_REGISTRY_CA: %v", err)
	}
	user, pw := os.Getenv("DOCKYARD_TEST_REGISTRY_USER"), os.Getenv("DOCKYARD_TEST_REGISTRY_PASSWORD")
	ctx := context.Background()
	a, b := servertest.Start(t), servertest.Start(t)
	src := imagestest.Plain(t)
	digest := src.Push(t, "golden:1")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := signing.NewPayload(src.Host+"/golden", digest)
	sig, _ := signing.SignPayload(key, payload)
	si, _ := images.SignatureImage([]images.Sig{{Payload: payload, Signature: sig}})
	tag, _ := images.SignatureTag(src.Host+"/golden", digest)
	src.PushImage(t, strings.TrimPrefix(tag.String(), src.Host+"/"), si)
	if _, err := a.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden", Ref: src.Host + "/golden:1"}); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := a.Admin.SaveImage(ctx, "golden", &archive); err != nil {
		t.Fatal(err)
	}

	if _, err := b.Admin.AddRegistry(ctx, wire.RegistryAdd{Host: host, CAPEM: string(caPEM)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Admin.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: pw}); err != nil {
		t.Fatal(err)
	}
	repo := fmt.Sprintf("%s/dockyard-load-test-%d-%d", host, os.Getpid(), time.Now().UnixNano())
	im, err := b.Admin.LoadImage(ctx, bytes.NewReader(archive.Bytes()), "", repo)
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != digest || im.Ref != repo+":1" {
		t.Fatalf("loaded = %+v; want %s at %s:1", im, digest, repo)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	if _, err := b.Admin.AddImageKey(ctx, "release", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))); err != nil {
		t.Fatal(err)
	}
	req := true
	if _, err := b.Admin.SetImagePolicy(ctx, wire.ImagePolicyUpdate{RequireSignature: &req}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Admin.Image(ctx, "golden"); err != nil || !strings.Contains(got.Policy, "allowed: signed by release") {
		t.Fatalf("show after load = %+v, %v", got, err)
	}
	// The signature image went to the registry too.
	if _, err := b.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden-again", Ref: repo + ":1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Admin.Image(ctx, "golden-again"); err != nil || !strings.Contains(got.Policy, "allowed: signed by release") {
		t.Fatalf("an entry added from the registry = %+v, %v; want its signature read back", got, err)
	}
}
