package storetest

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/internal/store"
)

// testCerts: the operator certificate a catalogue entry or a container
// names is kept, and changed by an update.
func testCerts(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	im := store.Image{Name: "golden-cpu", Ref: "golden:1", Digest: "sha256:aa", RunRef: "sha256:aa", Source: "engine", Runtime: "docker", Cert: "dltk"}
	if err := st.CreateImage(ctx, im); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetImage(ctx, im.Name); err != nil || got.Cert != "dltk" {
		t.Fatalf("GetImage = %+v, %v; want cert dltk", got, err)
	}
	im.Cert = ""
	if err := st.UpdateImage(ctx, im); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetImage(ctx, im.Name); err != nil || got.Cert != "" {
		t.Fatalf("GetImage after clearing the cert = %+v, %v", got, err)
	}
	c, err := st.CreateContainer(ctx, store.Container{Name: "web", Owner: "admin", Image: "golden-cpu", Runtime: "docker",
		Desired: "running", Status: "created", Cert: "web-tls"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetContainer(ctx, "web", ""); err != nil || got.Cert != "web-tls" {
		t.Fatalf("GetContainer = %+v, %v; want cert web-tls", got, err)
	}
	c.Cert = "other"
	if err := st.UpdateContainer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetContainer(ctx, "web", ""); err != nil || got.Cert != "other" {
		t.Fatalf("GetContainer after the update = %+v, %v", got, err)
	}
}
