package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestImagesList(t *testing.T) {
	h := servertest.Start(t)
	ctx := context.Background()
	list, err := h.User("ds", access.RoleContainerUser).Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || !list[0].Default || list[0].Runtime != "process" || !strings.HasPrefix(list[0].Digest, "sha256:") {
		t.Fatalf("images: %+v", list)
	}
	if _, err := h.User("plain", access.RoleUser).Images(ctx); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "list_mltk_container") {
		t.Fatalf("plain user listing images: want 403 naming list_mltk_container, got %v", err)
	}
}
