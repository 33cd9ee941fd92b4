package images

import (
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/secrets"
)

const regUser, regPassword = "ci", "s3cret-registry-pw"

func TestPrivateRegistry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	box, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	regs := NewRegistries(e.st, box)
	e.cat.o.Registry = NewRegistry(regs.Options)
	p := imagestest.Private(t, regUser, regPassword)
	first := p.Push(t, "golden-cpu:5.2.0")
	ref := p.Host + "/golden-cpu:5.2.0"

	// Not added: its certificate is not trusted.
	if _, err := e.add(t, AddRequest{Name: "golden-cpu", Ref: ref}); err == nil || !strings.Contains(err.Error(), "registries add "+p.Host+" --ca-file") {
		t.Errorf("untrusted registry: %v", err)
	}
	if _, err := regs.Add(ctx, "admin", p.Host, p.CAPEM); err != nil {
		t.Fatal(err)
	}
	// Trusted, but no credentials.
	if _, err := e.add(t, AddRequest{Name: "golden-cpu", Ref: ref}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "registries login "+p.Host) {
		t.Errorf("registry without credentials: %v", err)
	}
	// Wrong credentials.
	if _, err := regs.Login(ctx, "admin", p.Host, regUser, "wrong"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.add(t, AddRequest{Name: "golden-cpu", Ref: ref}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "credentials are missing or wrong") {
		t.Errorf("wrong credentials: %v", err)
	}
	// The right ones.
	if _, err := regs.Login(ctx, "admin", p.Host, regUser, regPassword); err != nil {
		t.Fatal(err)
	}
	ent, err := e.add(t, AddRequest{Name: "golden-cpu", Ref: ref})
	if err != nil || ent.Digest != first || ent.RunRef != p.Host+"/golden-cpu@"+first {
		t.Fatalf("add from the private registry = %+v, %v; want %s", ent, err, first)
	}
	// Re-tagging the remote does not change what runs until re-pinned.
	second := p.Push(t, "golden-cpu:5.2.0")
	if pin, err := e.cat.Pin(ctx, "golden-cpu"); err != nil || pin.Digest != first {
		t.Fatalf("Pin after re-tag = %+v, %v; want %s", pin, err, first)
	}
	if _, after, err := e.cat.Repin(ctx, "admin", "golden-cpu", UpdateRequest{}); err != nil || after.Digest != second {
		t.Fatalf("Repin = %+v, %v; want %s", after, err, second)
	}
	// The password is sealed at rest and never listed.
	rec, err := e.st.GetRegistry(ctx, p.Host)
	if err != nil || rec.PasswordSealed == "" || strings.Contains(rec.PasswordSealed, regPassword) || rec.Username != regUser {
		t.Fatalf("stored registry = %+v, %v", rec, err)
	}
	auth, err := regs.Auth(ctx, p.Host)
	if err != nil || auth == nil || auth.Password != regPassword || auth.Server != p.Host {
		t.Fatalf("Auth = %+v, %v", auth, err)
	}
	list, err := regs.List(ctx)
	if err != nil || len(list) != 1 || !list[0].HasCA || list[0].Username != regUser {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// A password sealed for one host does not open for another.
	if _, err := box.Open(rec.PasswordSealed, sealPurpose("other.example.com")); err == nil {
		t.Error("a sealed password opens for another host")
	}
	if _, err := regs.Remove(ctx, p.Host); err != nil {
		t.Fatal(err)
	}
	if a, err := regs.Auth(ctx, p.Host); a != nil || err != nil {
		t.Errorf("Auth after Remove = %+v, %v", a, err)
	}
}

func TestRegistriesBadInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	box, _ := secrets.New(secrets.GenerateKey())
	regs := NewRegistries(e.st, box)
	if _, err := regs.Add(ctx, "admin", "registry.example.com", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		err  error
		kind func(error) bool
		want string
	}{
		{"scheme", func() error { _, err := regs.Add(ctx, "admin", "https://registry.example.com", ""); return err }(), errdefs.IsInvalid, "without https://"},
		{"path", func() error { _, err := regs.Add(ctx, "admin", "registry.example.com/v2", ""); return err }(), errdefs.IsInvalid, "HOST:PORT"},
		{"not PEM", func() error { _, err := regs.Add(ctx, "admin", "b.example.com", "hello"); return err }(), errdefs.IsInvalid, "no PEM certificate"},
		{"twice", func() error { _, err := regs.Add(ctx, "admin", "registry.example.com", ""); return err }(), errdefs.IsConflict, "registries remove registry.example.com"},
		{"login unknown", func() error { _, err := regs.Login(ctx, "admin", "c.example.com", "u", "p"); return err }(), errdefs.IsNotFound, "registries add c.example.com"},
		{"login no password", func() error { _, err := regs.Login(ctx, "admin", "registry.example.com", "u", ""); return err }(), errdefs.IsInvalid, "--password-stdin"},
		{"remove unknown", func() error { _, err := regs.Remove(ctx, "c.example.com"); return err }(), errdefs.IsNotFound, "not added"},
	} {
		if tc.err == nil || !tc.kind(tc.err) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.what, tc.err, tc.want)
		}
	}
	for _, ok := range []string{"registry.example.com", "127.0.0.1:5000", "localhost:5000", "[::1]:5000", "a-b.c"} {
		if err := CheckHost(ok); err != nil {
			t.Errorf("CheckHost(%q) = %v", ok, err)
		}
	}
}
