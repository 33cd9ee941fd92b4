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
	if err := st.DeleteImageException(ctx, "golden-cpu", "CVE-2026-9"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteImageException of none = %v, want not found", err)
	}
	if err := st.DeleteImageException(ctx, "golden-cpu", e.CVE); err != nil {
		t.Fatal(err)
	}
	if list, err := st.ListImageExceptions(ctx, "golden-cpu"); err != nil || len(list) != 0 {
		t.Fatalf("exceptions after delete = %+v, %v; want none", list, err)
	}
	if list, err := st.ListImageExceptions(ctx, "other"); err != nil || len(list) != 1 {
		t.Fatalf("another image's exceptions after delete = %+v, %v; want one", list, err)
	}

	// Removing an entry removes its scans, exceptions and signatures, and
	// only its own: a name added again starts with none.
	for _, name := range []string{"gone", "kept"} {
		if err := st.CreateImage(ctx, store.Image{Name: name, Ref: "r/" + name, Digest: "sha256:cc", RunRef: "r/" + name + "@sha256:cc",
			Source: "registry", Runtime: "docker", Created: at, Updated: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddImageScan(ctx, store.ImageScan{Image: name, Digest: "sha256:cc", Format: "trivy", Scanned: at, Findings: `[]`, Imported: at}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutImageException(ctx, store.ImageException{Image: name, CVE: "CVE-2026-3", Until: at, Reason: "x", Created: at}); err != nil {
			t.Fatal(err)
		}
		if err := st.AddImageSignature(ctx, store.ImageSignature{Image: name, Digest: "sha256:cc", Payload: "{}", Signature: "c2ln", Added: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteImage(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"gone": 0, "kept": 1} {
		_, scanErr := st.LatestImageScan(ctx, name, "sha256:cc")
		exs, err1 := st.ListImageExceptions(ctx, name)
		sigs, err2 := st.ListImageSignatures(ctx, name, "")
		if err1 != nil || err2 != nil || len(exs) != want || len(sigs) != want || (scanErr == nil) != (want == 1) {
			t.Errorf("after removing image \"gone\", %q has scan %v, exceptions %d (%v), signatures %d (%v); want %d each",
				name, scanErr, len(exs), err1, len(sigs), err2, want)
		}
	}
}
