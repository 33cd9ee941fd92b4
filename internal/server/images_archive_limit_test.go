package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/server/servertest"
)

// TestImageArchiveUploadIsBounded: an image archive larger than
// images.max_archive_bytes is refused with 413 too_large while it
// arrives, before it fills the server's disk, and nothing is added.
func TestImageArchiveUploadIsBounded(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Images.MaxArchiveBytes = 64 << 10
	h := servertest.StartConfig(t, cfg)
	tok, err := h.Srv.AdminToken(context.Background(), "archive-limit", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hc := httpsClient(t, h)
	// A well-formed tar whose one blob is 1 MiB, so that reading goes on
	// past the limit.
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	blob := make([]byte, 1<<20)
	if err := tw.WriteHeader(&tar.Header{Name: "blobs/sha256/" + strings.Repeat("a", 64), Mode: 0o644, Size: int64(len(blob))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(blob)
	tw.Close()
	req, _ := http.NewRequest("POST", h.Srv.URL()+"/v1/image-archives?name=big", &archive)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b.String(), "images.max_archive_bytes") {
		t.Errorf("a 1 MiB archive over a 64 KiB limit: %d %s, want 413 naming images.max_archive_bytes", resp.StatusCode, b.String())
	}
	if _, err := h.Admin.Image(context.Background(), "big"); err == nil {
		t.Errorf("the refused archive's entry exists")
	}
}
