package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// dockerCmd runs the docker CLI and returns its trimmed output.
func dockerCmd(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestImagesDockerLocalPin adds an image local to the Docker Engine by
// tag, moves the tag, and checks that containers run the pinned image id
// until the entry is re-pinned.
func TestImagesDockerLocalPin(t *testing.T) {
	img := os.Getenv("DOCKYARD_DOCKER_TEST_IMAGE")
	if img == "" {
		t.Skip("DOCKYARD_DOCKER_TEST_IMAGE is not set: name an agent image with python3 (bash .ci/docker-image.sh builds one) to start catalogue images in Docker")
	}
	if out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", img).CombinedOutput(); err != nil {
		t.Skipf("image %s (from DOCKYARD_DOCKER_TEST_IMAGE) is not on the Docker host: %s", img, out)
	}
	h := servertest.Start(t)
	ctx := context.Background()
	tag := fmt.Sprintf("dockyard-images-test:%d-%d", os.Getpid(), time.Now().UnixNano())
	first := dockerCmd(t, "", "image", "inspect", "-f", "{{.Id}}", img)
	dockerCmd(t, "", "tag", img, tag)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", tag).Run() })

	im, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: tag, Title: "Golden CPU"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != first || im.RunRef != first || im.Source != "engine" || im.Runtime != "docker" {
		t.Fatalf("added = %+v, want the image id %s", im, first)
	}
	// The seed's GPU image is the same agent image, marked for GPUs.
	if gpu, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden-gpu", Ref: tag, Title: "Golden GPU", GPU: true}); err != nil || !gpu.GPU || gpu.Digest != first {
		t.Fatalf("golden-gpu = %+v, %v", gpu, err)
	}
	// Move the tag to another image.
	dockerCmd(t, fmt.Sprintf("FROM %s\nLABEL dockyard.images-test=%s\n", img, tag), "build", "-q", "-t", tag, "-")
	second := dockerCmd(t, "", "image", "inspect", "-f", "{{.Id}}", tag)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", second).Run() })
	if second == first {
		t.Fatal("the rebuilt image has the first one's id")
	}
	startedWith := func(want string) {
		t.Helper()
		c, err := h.Admin.StartContainer(ctx, "golden", wire.ContainerStart{Image: "golden-cpu"})
		if err != nil || c.Runtime != "docker" || c.Image != "golden-cpu" {
			t.Fatalf("start from golden-cpu = %+v, %v", c, err)
		}
		if err := h.Admin.RemoveContainerWith(ctx, "golden", true); err != nil {
			t.Fatal(err)
		}
		if !hasEvent(auditActions(t, h), `"container.start"`, `"image_ref":"`+want+`"`) {
			t.Errorf("no container.start event that ran %s", want)
		}
	}
	startedWith(first)
	if got, err := h.Admin.UpdateImage(ctx, "golden-cpu", wire.ImageUpdate{}); err != nil || got.Digest != second {
		t.Fatalf("re-pin = %+v, %v; want %s", got, err, second)
	}
	startedWith(second)
}
