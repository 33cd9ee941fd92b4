package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

func testSigning(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k := store.SigningKey{Purpose: store.KeyPurposeImage, Name: "release", PEM: "pem", Fingerprint: "sha256:aa", CreatedBy: "admin", Created: at}
	if err := st.CreateSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSigningKey(ctx, k); !errdefs.IsConflict(err) {
		t.Fatalf("CreateSigningKey twice = %v, want conflict", err)
	}
	m := k
	m.Purpose = store.KeyPurposeModel // the same name for another purpose is another key
	if err := st.CreateSigningKey(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListSigningKeys(ctx, store.KeyPurposeImage)
	if err != nil || len(got) != 1 || got[0] != k {
		t.Fatalf("ListSigningKeys = %+v, %v; want %+v", got, err, k)
	}
	if err := st.DeleteSigningKey(ctx, store.KeyPurposeImage, "release"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSigningKey(ctx, store.KeyPurposeImage, "release"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteSigningKey twice = %v, want not found", err)
	}
	if got, _ := st.ListSigningKeys(ctx, store.KeyPurposeModel); len(got) != 1 {
		t.Fatalf("model keys after deleting the image key = %+v", got)
	}

	s := store.ImageSignature{Image: "golden", Digest: "sha256:aa", Payload: "{}", Signature: "c2ln", Source: "registry", AddedBy: "admin", Added: at}
	for _, sg := range []store.ImageSignature{s, s} {
		if err := st.AddImageSignature(ctx, sg); err != nil {
			t.Fatal(err)
		}
	}
	other := s
	other.Digest, other.Manifest = "sha256:bb", `{"schemaVersion":2}`
	if err := st.AddImageSignature(ctx, other); err != nil {
		t.Fatal(err)
	}
	sigs, err := st.ListImageSignatures(ctx, "golden", "sha256:aa")
	if err != nil || len(sigs) != 1 || sigs[0].Payload != "{}" || sigs[0].ID == 0 || !sigs[0].Added.Equal(at) {
		t.Fatalf("ListImageSignatures(aa) = %+v, %v; want the one signature", sigs, err)
	}
	if all, _ := st.ListImageSignatures(ctx, "golden", ""); len(all) != 2 || all[1].Manifest != other.Manifest {
		t.Fatalf("ListImageSignatures(all) = %+v", all)
	}
	if none, _ := st.ListImageSignatures(ctx, "other", ""); len(none) != 0 {
		t.Fatalf("signatures of another image: %+v", none)
	}
}
