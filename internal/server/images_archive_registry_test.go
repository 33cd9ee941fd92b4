package server_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
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
	archive, digest, key := savedSignedImage(t, a, imagestest.Plain(t))

	if _, err := b.Admin.AddRegistry(ctx, wire.RegistryAdd{Host: host, CAPEM: string(caPEM)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Admin.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: pw}); err != nil {
		t.Fatal(err)
	}
	repo := fmt.Sprintf("%s/dockyard-load-test-%d-%d", host, os.Getpid(), time.Now().UnixNano())
	im, err := b.Admin.LoadImage(ctx, bytes.NewReader(archive), "", repo)
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != digest || im.Ref != repo+":1" {
		t.Fatalf("loaded = %+v; want %s at %s:1", im, digest, repo)
	}
	requireSignatureBy(t, b, key)
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
