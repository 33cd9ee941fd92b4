package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// EnvTestRegistry names the private registry (TLS, htpasswd) that
// .ci/registry.sh starts; its CA, user and password come in the variables
// beside it.
const EnvTestRegistry = "DOCKYARD_TEST_REGISTRY"

// TestImagesPrivateRegistryDocker pushes an agent image to a private
// registry (Debian's docker-registry behind TLS and basic auth), adds it
// to the catalogue by the registry's name, and starts a container from
// it: the Docker Engine pulls the pinned digest with the stored
// credentials. Wrong credentials give a clear error; re-tagging the
// remote changes nothing until the entry is re-pinned.
func TestImagesPrivateRegistryDocker(t *testing.T) {
	host := os.Getenv(EnvTestRegistry)
	if host == "" {
		t.Skipf("%s is not set: start a private registry with `eval \"$(bash .ci/registry.sh)\"` (Debian's docker-registry and apache2-utils) to test pulls through the Docker Engine", EnvTestRegistry)
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("the Docker daemon does not answer: %v\n%s", err, out)
	}
	caPEM, err := os.ReadFile(os.Getenv("DOCKYARD_TEST_REGISTRY_CA"))
	if err != nil {
		t.Fatalf("DOCKYARD_TEST_REGISTRY_CA: %v", err)
	}
	user, pw := os.Getenv("DOCKYARD_TEST_REGISTRY_USER"), os.Getenv("DOCKYARD_TEST_REGISTRY_PASSWORD")
	reg := imagestest.External(host, string(caPEM), user, pw)
	bin := imagestest.StaticDockyard(t, t.TempDir())
	run := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	repoTag := "dockyard-images-test:" + run
	first := reg.PushImage(t, repoTag, imagestest.AgentImage(t, bin, run+"-1"))
	t.Cleanup(func() {
		_ = exec.Command("docker", "rmi", host+"/dockyard-images-test@"+first).Run()
	})

	h := servertest.Start(t)
	ctx := context.Background()
	adm := h.Admin
	ref := host + "/" + repoTag
	if _, err := adm.AddRegistry(ctx, wire.RegistryAdd{Host: host, CAPEM: string(caPEM)}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: ref}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "registries login "+host) {
		t.Fatalf("add without credentials: %v", err)
	}
	if _, err := adm.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: "wrong"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: ref}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "credentials are missing or wrong") {
		t.Fatalf("add with wrong credentials: %v", err)
	}
	if _, err := adm.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: pw}); err != nil {
		t.Fatal(err)
	}
	im, err := adm.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: ref})
	if err != nil || im.Digest != first || im.RunRef != host+"/dockyard-images-test@"+first {
		t.Fatalf("add = %+v, %v; want %s", im, err, first)
	}
	// The engine's pull with wrong credentials fails, saying so.
	if _, err := adm.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: "wrong"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.StartContainer(ctx, "golden", wire.ContainerStart{Image: "golden-cpu"}); err == nil || !strings.Contains(err.Error(), "registries login") {
		t.Fatalf("start (a pull) with wrong credentials: %v", err)
	}
	if _, err := adm.LoginRegistry(ctx, host, wire.RegistryLogin{Username: user, Password: pw}); err != nil {
		t.Fatal(err)
	}
	// Re-tag the remote: the start still pulls and runs the pinned digest.
	second := reg.PushImage(t, repoTag, imagestest.AgentImage(t, bin, run+"-2"))
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", host+"/dockyard-images-test@"+second).Run() })
	c, err := adm.StartContainer(ctx, "golden", wire.ContainerStart{Image: "golden-cpu"})
	if err != nil || c.Status != "running" || c.Runtime != "docker" {
		t.Fatalf("start from the private registry = %+v, %v", c, err)
	}
	if err := adm.RemoveContainerWith(ctx, "golden", true); err != nil {
		t.Fatal(err)
	}
	all := auditActions(t, h)
	if !hasEvent(all, `"container.start"`, `"success"`, `"image_ref":"`+host+"/dockyard-images-test@"+first+`"`) {
		t.Errorf("no container.start event that ran the pinned %s", first)
	}
	if strings.Contains(all, pw) {
		t.Error("the registry password is in the audit trail")
	}
	if got, err := adm.UpdateImage(ctx, "golden-cpu", wire.ImageUpdate{}); err != nil || got.Digest != second {
		t.Fatalf("re-pin = %+v, %v; want %s", got, err, second)
	}
}
