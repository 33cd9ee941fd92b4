package server_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestJupyterInDockerDevelopmentContainer is the seed's own workflow on the
// Docker runtime: a development container started from the golden image
// (`images build golden-cpu`, which CI builds as DOCKYARD_DOCKER_TEST_IMAGE)
// runs the image's Jupyter beside the agent; through the server's proxy the
// owner creates a notebook, runs a cell in a kernel, and the save becomes a
// notebook version from the container.
func TestJupyterInDockerDevelopmentContainer(t *testing.T) {
	img := os.Getenv("DOCKYARD_DOCKER_TEST_IMAGE")
	if img == "" {
		t.Skip("DOCKYARD_DOCKER_TEST_IMAGE is not set: name the golden image (bash .ci/docker-image.sh builds it with `dockyard images build`) to run Jupyter in Docker")
	}
	if out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "/usr/bin/python3", img, "-c", "import notebook").CombinedOutput(); err != nil {
		t.Skipf("image %s (from DOCKYARD_DOCKER_TEST_IMAGE) has no Jupyter Notebook (build it with `dockyard images build golden-cpu`): %s", img, out)
	}
	ctx := context.Background()
	cfg := jupyterConfig(t)
	cfg.Containers.SyncWatchScan = time.Second
	h := servertest.StartConfig(t, cfg)
	cleanupContainers(t, h)
	if _, err := h.Admin.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: img, Title: "Golden CPU"}); err != nil {
		t.Fatal(err)
	}
	alice, tok := jupyterUser(t, h, "alice", access.RoleContainerUser)
	hc := httpsClient(t, h)
	c, err := alice.StartContainer(ctx, containers.DevName, wire.ContainerStart{Image: "golden-cpu", Runtime: "docker"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if c.Runtime != "docker" {
		t.Fatalf("started on %q, want docker", c.Runtime)
	}
	base := containers.JupyterPath("alice", containers.DevName)
	waitJupyterReady(t, h, hc, tok, base)

	if out := saveAndRun(t, h, hc, tok, base, "dnb", "import sklearn; print(6 * 7)"); strings.TrimSpace(out) != "42" {
		t.Errorf("the cell printed %q, want 42", out)
	}
	vs := waitVersion(t, alice, "dnb", 1)
	if vs[0].Author != "alice" {
		t.Errorf("history = %+v", vs)
	}
}
