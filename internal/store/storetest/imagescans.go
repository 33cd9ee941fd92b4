package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testImageScans(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := st.LatestImageScan(ctx, "golden-cpu", "sha256:aa"); !errdefs.IsNotFound(err) {
		t.Fatalf("LatestImageScan of none = %v, want not found", err)
	}
	older := store.ImageScan{Image: "golden-cpu", Digest: "sha256:aa", Format: "trivy", Scanned: at, Findings: `[]`, ImportedBy: "admin", Imported: at}
	newer := older
	newer.Scanned, newer.Findings, newer.Format = at.Add(time.Hour), `[{"id":"CVE-1"}]`, "grype"
	other := older
	other.Digest, other.Scanned = "sha256:bb", at.Add(2*time.Hour)
	for _, sc := range []store.ImageScan{newer, older, other} {
		if _, err := st.AddImageScan(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.LatestImageScan(ctx, "golden-cpu", "sha256:aa")
	if err != nil || got.Format != "grype" || got.Findings != newer.Findings || !got.Scanned.Equal(newer.Scanned) || got.ID == 0 {
		t.Fatalf("LatestImageScan = %+v, %v; want the grype scan", got, err)
	}
	e := store.ImageException{Image: "golden-cpu", CVE: "CVE-2026-1", Until: at.Add(24 * time.Hour), Reason: "no fix yet", CreatedBy: "admin", Created: at}
	if err := st.PutImageException(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Until, e.Reason = at.Add(48*time.Hour), "vendor patch due"
	if err := st.PutImageException(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := st.PutImageException(ctx, store.ImageException{Image: "other", CVE: "CVE-2026-2", Until: at, Reason: "x", Created: at}); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListImageExceptions(ctx, "golden-cpu")
	if err != nil || len(list) != 1 || list[0] != e {
		t.Fatalf("ListImageExceptions = %+v, %v; want [%+v]", list, err, e)
	}
}
