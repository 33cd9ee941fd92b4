package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

func TestImagesList(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	list, err := h.User("ds", access.RoleContainerUser).Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != images.ProcessImage || !list[0].Builtin || !list[0].Default || list[0].Runtime != "process" ||
		!strings.HasPrefix(list[0].Digest, "sha256:") {
		t.Fatalf("images: %+v", list)
	}
	if _, err := h.User("plain", access.RoleUser).Images(ctx); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "list_mltk_container") {
		t.Fatalf("plain user listing images: want 403 naming list_mltk_container, got %v", err)
	}
}

// TestImagesCatalogue walks the catalogue: who may change it, adding by a
// registry reference pins the digest (a moved tag changes nothing until
// update), containers start only from entries, and each change is audited.
func TestImagesCatalogue(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	reg := imagestest.Plain(t)
	host := reg.Host
	first := reg.Push(t, "golden-cpu:5.2.0")

	user := h.User("ds", access.RoleContainerUser)
	if _, err := user.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: host + "/golden-cpu:5.2.0"}); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "configure_mltk_container") {
		t.Fatalf("container user adding an image: want 403 naming configure_mltk_container, got %v", err)
	}
	adm := h.User("cadmin", access.RoleContainerAdmin)
	im, err := adm.AddImage(ctx, wire.ImageAdd{Name: "golden-cpu", Ref: host + "/golden-cpu:5.2.0", Title: "Golden CPU"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != first || im.RunRef != host+"/golden-cpu@"+first || im.Runtime != "docker" || im.CreatedBy != "cadmin" {
		t.Fatalf("added = %+v, want digest %s", im, first)
	}
	second := reg.Push(t, "golden-cpu:5.2.0")
	if got, err := user.Image(ctx, "golden-cpu"); err != nil || got.Digest != first {
		t.Fatalf("show after the tag moved = %+v, %v; want the pinned %s", got, err, first)
	}
	if got, err := adm.UpdateImage(ctx, "golden-cpu", wire.ImageUpdate{}); err != nil || got.Digest != second || got.Title != "Golden CPU" {
		t.Fatalf("update = %+v, %v; want %s", got, err, second)
	}
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "cpu-local", Runtime: "process", Title: "Local"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "bad name!", Ref: host + "/x:1"}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "image name") {
		t.Errorf("bad name: %v", err)
	}
	// A local reference is looked up on the Docker host (or refused where
	// the server has no docker runtime).
	if _, err := adm.AddImage(ctx, wire.ImageAdd{Name: "local", Ref: "no-such-image:5.2.0"}); !(errdefs.IsNotFound(err) && strings.Contains(err.Error(), "not on the Docker host")) &&
		!(errdefs.IsInvalid(err) && strings.Contains(err.Error(), "no Docker runtime")) {
		t.Errorf("local reference that is nowhere: %v", err)
	}

	// Containers start from entries only.
	c, err := user.StartContainer(ctx, "web", wire.ContainerStart{Image: "cpu-local"})
	if err != nil || c.Image != "cpu-local" || c.Runtime != "process" {
		t.Fatalf("start from cpu-local = %+v, %v", c, err)
	}
	if _, err := user.StartContainer(ctx, "raw", wire.ContainerStart{Image: "python:3.12"}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "not in the catalogue") {
		t.Errorf("start from an image not in the catalogue: %v", err)
	}
	if _, err := user.StartContainer(ctx, "raw", wire.ContainerStart{Image: "golden-cpu", Runtime: "process"}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "runs on the docker runtime") {
		t.Errorf("start on the wrong runtime: %v", err)
	}
	if _, err := h.Admin.StartContainer(ctx, "g", wire.ContainerStart{Image: "cpu-local", GPUs: 1}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "not a GPU image") {
		t.Errorf("GPUs from an image not marked for them: %v", err)
	}
	if err := adm.RemoveImage(ctx, "cpu-local"); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "used by 1 containers (web)") {
		t.Errorf("removing an image in use: %v", err)
	}
	if err := user.RemoveContainer(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if err := adm.RemoveImage(ctx, "cpu-local"); err != nil {
		t.Fatal(err)
	}
	list, err := user.Images(ctx)
	if err != nil || len(list) != 2 || list[1].Name != "golden-cpu" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	all := auditActions(t, h)
	for _, want := range [][]string{
		{`"image.add"`, `"image:golden-cpu"`, first},
		{`"image.update"`, `"image:golden-cpu"`, second, `"changed":true`},
		{`"image.add"`, `"image:cpu-local"`},
		{`"image.remove"`, `"image:cpu-local"`},
		{`"image.add"`, `"denied"`, `"ds"`},
		{`"container.start"`, `"denied"`, "not in the catalogue"},
	} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %q", want)
		}
	}
}
