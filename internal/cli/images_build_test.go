package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// EnvGoldenCache names the root file system cache TestImagesBuildGolden
// builds with: .ci/run sets /var/cache/dockyard-ci/golden-rootfs, which
// .ci/docker-image.sh has filled (the first build there needs root,
// debootstrap and Debian's mirror, and takes minutes; later ones import
// the cached tar in under a minute).
const EnvGoldenCache = "DOCKYARD_TEST_GOLDEN_CACHE"

// TestImagesBuildGolden runs `dockyard images build` for real: the golden
// image from Debian packages with a static agent, imported into the
// Docker Engine and added to the catalogue, then re-pinned by a second
// build; a container starts from it in Docker, and the image holds
// pandas, NumPy, scikit-learn and Jupyter's Notebook.
func TestImagesBuildGolden(t *testing.T) {
	cache := os.Getenv(EnvGoldenCache)
	if cache == "" {
		t.Skip(EnvGoldenCache + " is not set: name a root file system cache directory (.ci/run uses /var/cache/dockyard-ci/golden-rootfs; building into an empty one needs root, debootstrap and Debian's mirror)")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("the Docker Engine does not answer: %v: %s", err, out)
	}
	// A static dockyard for the agent (this test binary is not one).
	agent := filepath.Join(t.TempDir(), "dockyard")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	build := exec.Command("go", "build", "-ldflags=-s -w", "-o", agent, "./cmd/dockyard")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static dockyard: %v\n%s", err, out)
	}

	h := servertest.Start(t)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	tag := fmt.Sprintf("dockyard-golden-test:%d-%d", os.Getpid(), time.Now().UnixNano())
	var ids []string
	t.Cleanup(func() {
		_ = exec.Command("docker", "rmi", tag).Run()
		for _, id := range ids {
			_ = exec.Command("docker", "rmi", id).Run()
		}
	})
	buildArgs := []string{"images", "build", "golden-cpu", "--agent", agent, "--cache-dir", cache, "--tag", tag, "-o", "json"}

	out, e, code := run(t, admin, "", buildArgs...)
	if code != 0 || !strings.Contains(e, "==> adding golden-cpu to the catalogue") || !strings.Contains(out, `"source": "engine"`) {
		t.Fatalf("images build golden-cpu: exit %d\nstdout: %s\nstderr: %s", code, out, e)
	}
	first := strings.TrimSpace(dockerOut(t, "image", "inspect", "-f", "{{.Id}}", tag))
	ids = append(ids, first)
	if !strings.Contains(out, first) {
		t.Fatalf("the entry is not pinned to the built image %s: %s", first, out)
	}
	labels := dockerOut(t, "image", "inspect", "-f", "{{json .Config.Labels}} {{json .Config.Entrypoint}}", tag)
	for _, want := range []string{`"dockyard.image":"golden-cpu"`, "jupyter-notebook", "python3-sklearn", `["/dockyard"]`} {
		if !strings.Contains(labels, want) {
			t.Errorf("the image's labels and entrypoint %s lack %s", labels, want)
		}
	}
	py := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", first, "-c",
		"import pandas, numpy, sklearn, notebook; print('ok', notebook.__version__)")
	if b, err := py.CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "ok ") {
		t.Errorf("python3 in the golden image: %v: %s", err, b)
	}
	// The seed's GPU entry is the same image, marked for GPUs.
	if _, e, code := run(t, admin, "", "images", "add", "golden-gpu", "--ref", tag, "--gpu"); code != 0 {
		t.Fatalf("images add golden-gpu: %s", e)
	}
	// A container starts from it in Docker: its agent answers.
	if out, e, code := run(t, admin, "", "containers", "start", "golden-web", "--image", "golden-cpu"); code != 0 || !strings.Contains(out, "running") {
		t.Fatalf("start from golden-cpu: exit %d\n%s\n%s", code, out, e)
	}
	if _, e, code := run(t, admin, "", "containers", "remove", "golden-web", "--yes", "--force"); code != 0 {
		t.Errorf("remove: %s", e)
	}

	// Building again takes the cached root file system and re-pins.
	out, e, code = run(t, admin, "", buildArgs...)
	if code != 0 || !strings.Contains(e, "using the cached root file system") || !strings.Contains(e, "==> re-pinning golden-cpu") {
		t.Fatalf("second images build: exit %d\nstdout: %s\nstderr: %s", code, out, e)
	}
	second := strings.TrimSpace(dockerOut(t, "image", "inspect", "-f", "{{.Id}}", tag))
	ids = append(ids, second)
	if !strings.Contains(out, second) {
		t.Fatalf("the entry is not re-pinned to %s: %s", second, out)
	}
	if !hasAuditEvent(auditBodies(t, h), `"image.update"`, second) {
		t.Error("no image.update event for the re-pin")
	}
}

func dockerOut(t *testing.T, args ...string) string {
	t.Helper()
	b, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, b)
	}
	return string(b)
}
