package server_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// modelDir writes files (path → content) under a new directory.
func modelDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestModelsThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser, access.RolePower) // power: shares into search
	bob := h.User("bob", access.RoleUser)

	v1, skipped, err := alice.ImportModelDir(ctx, "churn", modelDir(t, map[string]string{"model.pkl": "weights-1", "meta/cols.json": `["a","b"]`}), "sklearn")
	if err != nil || v1.Version != 1 || v1.Files != 2 || v1.Algo != "sklearn" || v1.Creator != "alice" || !strings.HasPrefix(v1.Digest, "sha256:") || len(skipped) != 0 {
		t.Fatalf("import v1 = %+v, %v, %v", v1, skipped, err)
	}
	v2, _, err := alice.ImportModelDir(ctx, "churn", modelDir(t, map[string]string{"model.pkl": "weights-2"}), "sklearn")
	if err != nil || v2.Version != 2 || v2.Digest == v1.Digest {
		t.Fatalf("import v2 = %+v, %v", v2, err)
	}
	vs, err := alice.ModelVersions(ctx, "churn")
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Digest != v1.Digest || vs[0].Aliases[0] != "current" {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	if mv, err := alice.SetModelAlias(ctx, "churn", "production", 1, "validated on holdout"); err != nil || mv.To != 1 || mv.From != 0 {
		t.Fatalf("alias set = %+v, %v", mv, err)
	}
	if mv, err := alice.RollbackModel(ctx, "churn", 1, "v2 drifts"); err != nil || mv.From != 2 || mv.To != 1 {
		t.Fatalf("rollback = %+v, %v", mv, err)
	}
	hist, err := alice.ModelHistory(ctx, "churn")
	if err != nil || len(hist) != 4 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if p, r := hist[2], hist[3]; p.Alias != "production" || p.User != "alice" || p.Reason != "validated on holdout" ||
		r.Alias != "current" || r.From != 2 || r.To != 1 || r.Reason != "v2 drifts" {
		t.Errorf("history moves = %+v", hist[2:])
	}
	s, err := alice.Model(ctx, "churn")
	if err != nil || s.Version != 1 || s.Digest != v1.Digest || s.Owner != "alice" || s.Sharing != "user" || !s.Perms.Share ||
		s.Aliases["production"] != 1 || s.Aliases["current"] != 1 || s.Creator != "alice" || s.Algo != "sklearn" {
		t.Fatalf("show = %+v, %v", s, err)
	}
	if s, err := alice.Model(ctx, "churn@2"); err != nil || s.Version != 2 {
		t.Errorf("show churn@2 = %+v, %v", s, err)
	}
	if s, err := alice.Model(ctx, "churn@production"); err != nil || s.Version != 1 {
		t.Errorf("show churn@production = %+v, %v", s, err)
	}

	// Bob cannot tell alice's private model from a missing one.
	hidden := map[string]func(ref string) error{
		"show":     func(ref string) error { _, err := bob.Model(ctx, ref); return err },
		"versions": func(ref string) error { _, err := bob.ModelVersions(ctx, ref); return err },
		"history":  func(ref string) error { _, err := bob.ModelHistory(ctx, ref); return err },
		"export":   func(ref string) error { _, err := bob.ExportModel(ctx, ref, io.Discard); return err },
		"delete":   func(ref string) error { return bob.DeleteModel(ctx, ref) },
		"rollback": func(ref string) error { _, err := bob.RollbackModel(ctx, ref, 1, ""); return err },
	}
	for op, f := range hidden {
		errHidden, errMissing := f("churn"), f("nosuch")
		if !errdefs.IsNotFound(errHidden) || errHidden.Error() != "model not found: churn" ||
			strings.Replace(errMissing.Error(), "nosuch", "churn", 1) != errHidden.Error() {
			t.Errorf("bob %s: hidden %v, missing %v: want the same `model not found: NAME`", op, errHidden, errMissing)
		}
	}
	if page, err := bob.Models(ctx, client.ModelFilter{}); err != nil || len(page.Models) != 0 {
		t.Errorf("bob lists %+v, %v", page, err)
	}

	// Shared at app level (roles kept): bob reads but may not write or share.
	if m, err := alice.ShareModel(ctx, "churn", wire.ModelShareRequest{Sharing: "app"}); err != nil || m.Sharing != "app" {
		t.Fatalf("share = %+v, %v", m, err)
	}
	if s, err := bob.Model(ctx, "churn"); err != nil || s.Version != 1 || s.Perms.Write {
		t.Fatalf("bob show after share = %+v, %v", s, err)
	}
	if page, err := bob.Models(ctx, client.ModelFilter{Sharing: "app"}); err != nil || len(page.Models) != 1 || page.Models[0].Name != "churn" {
		t.Errorf("bob lists after share %+v, %v", page, err)
	}
	if err := bob.DeleteModel(ctx, "churn"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "write permission") {
		t.Errorf("bob delete = %v, want permission denied", err)
	}
	if _, err := bob.ShareModel(ctx, "churn", wire.ModelShareRequest{Sharing: "global"}); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob share = %v, want permission denied", err)
	}
	if _, err := bob.SetModelAlias(ctx, "churn", "production", 2, ""); !errdefs.IsPermissionDenied(err) {
		t.Errorf("bob alias set = %v, want permission denied", err)
	}
	roles := []string{"user"}
	if _, err := alice.ShareModel(ctx, "churn", wire.ModelShareRequest{Write: &roles}); err != nil {
		t.Fatalf("share write to user: %v", err)
	}
	if s, err := bob.Model(ctx, "churn"); err != nil || s.Sharing != "app" || !s.Perms.Write {
		t.Errorf("bob show after write share = %+v, %v", s, err)
	}

	// Export and import keep the digest; a tampered archive is refused,
	// naming the file, and registers nothing.
	var archive bytes.Buffer
	ex, err := alice.ExportModel(ctx, "churn@production", &archive)
	if err != nil || ex.Version != 1 || ex.Digest != v1.Digest {
		t.Fatalf("export = %+v, %v", ex, err)
	}
	if v, err := alice.ImportModelTar(ctx, "copy", "", bytes.NewReader(archive.Bytes())); err != nil || v.Digest != v1.Digest || v.Algo != "sklearn" {
		t.Fatalf("import of the export = %+v, %v", v, err)
	}
	tampered := bytes.Replace(archive.Bytes(), []byte("weights-1"), []byte("weights-X"), 1)
	_, err = alice.ImportModelTar(ctx, "churn", "", bytes.NewReader(tampered))
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), `"model.pkl"`) || !strings.Contains(err.Error(), "nothing was registered") {
		t.Errorf("tampered import = %v", err)
	}
	_, err = alice.ImportModelTar(ctx, "churn", "", bytes.NewReader(archive.Bytes()[:archive.Len()/2]))
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "nothing was registered") {
		t.Errorf("truncated import = %v", err)
	}
	t.Logf("truncated import: %v", err)
	if vs, err := alice.ModelVersions(ctx, "churn"); err != nil || len(vs) != 2 {
		t.Errorf("after refused imports: %d versions, %v", len(vs), err)
	}

	if err := bob.DeleteModel(ctx, "churn"); err != nil {
		t.Fatalf("bob delete with write role: %v", err)
	}
	if _, err := alice.Model(ctx, "churn"); !errdefs.IsNotFound(err) {
		t.Errorf("show after delete = %v", err)
	}
	all := auditActions(t, h)
	for _, want := range [][]string{
		{`"model.version.create"`, `"alice"`},
		{`"model.alias.set"`, `"alice"`, `validated on holdout`},
		{`"model.rollback"`, `"alice"`},
		{`"model.share"`, `"alice"`},
		{`"model.delete"`, `"bob"`, `"denied"`},
		{`"model.delete"`, `"bob"`, `"success"`},
		{`"model.export"`, `"alice"`, v1.Digest},
	} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %v", want)
		}
	}
}

// TestModelImportBrokenUpload checks that an upload whose body breaks off
// midway registers nothing.
func TestModelImportBrokenUpload(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "files/model.bin", Size: 1 << 20, Mode: 0o644, Typeflag: tar.TypeReg})
	tw.Write(bytes.Repeat([]byte("x"), 1<<20))
	tw.Close()
	body := io.MultiReader(bytes.NewReader(buf.Bytes()[:1<<19]), errReader{})
	_, err := h.Admin.ImportModelTar(ctx, "broken", "x", body)
	if err == nil {
		t.Fatal("a broken upload was accepted")
	}
	t.Logf("broken upload: %v", err)
	if _, err := h.Admin.Model(ctx, "broken"); !errdefs.IsNotFound(err) {
		t.Errorf("after a broken upload: show = %v, want not found", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection lost") }

// TestModelImportSizeLimit: an archive larger than models.max_import_bytes
// is refused naming the setting, and nothing is registered.
func TestModelImportSizeLimit(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t.TempDir())
	cfg.Models.MaxImportBytes = 16 << 10
	h := servertest.StartConfig(t, cfg)
	alice := h.User("alice", access.RoleUser)
	big := strings.Repeat("w", 64<<10)
	_, _, err := alice.ImportModelDir(ctx, "big", modelDir(t, map[string]string{"model.bin": big}), "sklearn")
	if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "models.max_import_bytes") || !strings.Contains(err.Error(), "nothing was registered") {
		t.Fatalf("oversized import: %v", err)
	}
	if _, err := alice.ModelVersions(ctx, "big"); !errdefs.IsNotFound(err) {
		t.Fatalf("after a refused import: %v, want model not found", err)
	}
	if _, _, err := alice.ImportModelDir(ctx, "small", modelDir(t, map[string]string{"model.bin": "w"}), "sklearn"); err != nil {
		t.Fatalf("small import under the limit: %v", err)
	}
}

// TestModelAliasRemoveUpdateAndImportSource covers alias removal, update
// of description and tags, and the history reason of each import source.
func TestModelAliasRemoveUpdateAndImportSource(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser)
	bob := h.User("bob", access.RoleUser)
	if _, _, err := alice.ImportModelDir(ctx, "churn", modelDir(t, map[string]string{"model.pkl": "w1"}), "sklearn"); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := alice.ExportModel(ctx, "churn", &archive); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ImportModelTar(ctx, "churn", "", &archive); err != nil {
		t.Fatal(err)
	}
	hist, err := alice.ModelHistory(ctx, "churn")
	if err != nil || len(hist) != 2 || hist[0].Reason != "imported from a directory" ||
		!strings.HasPrefix(hist[1].Reason, "imported from an archive") {
		t.Fatalf("history of a directory then an archive import = %+v, %v", hist, err)
	}

	if _, err := alice.SetModelAlias(ctx, "churn", "production", 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.RemoveModelAlias(ctx, "churn", "production", ""); err == nil || err.Error() != "model not found: churn" {
		t.Errorf("bob removes an alias of a private model: %v, want model not found", err)
	}
	mv, err := alice.RemoveModelAlias(ctx, "churn", "production", "retired")
	if err != nil || mv.Alias != "production" || mv.From != 1 || mv.To != 0 || mv.Reason != "retired" || mv.User != "alice" {
		t.Fatalf("remove alias = %+v, %v", mv, err)
	}
	if s, err := alice.Model(ctx, "churn"); err != nil || len(s.Aliases) != 1 || s.Aliases["current"] != 2 {
		t.Errorf("aliases after remove = %v, %v", s.Aliases, err)
	}
	if _, err := alice.RemoveModelAlias(ctx, "churn", "production", ""); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), `no alias "production"`) {
		t.Errorf("remove a removed alias = %v", err)
	}
	if _, err := alice.RemoveModelAlias(ctx, "churn", "current", ""); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("remove current = %v, want invalid naming rollback", err)
	}
	if hist, _ := alice.ModelHistory(ctx, "churn"); len(hist) != 4 || hist[3].To != 0 || hist[3].Reason != "retired" {
		t.Errorf("history after remove = %+v", hist)
	}

	desc, tags := "predicts churn", []string{"finance", "weekly"}
	if _, err := bob.UpdateModel(ctx, "churn", client.ModelUpdate{Description: &desc}); err == nil || err.Error() != "model not found: churn" {
		t.Errorf("bob updates a private model: %v, want model not found", err)
	}
	m, err := alice.UpdateModel(ctx, "churn", client.ModelUpdate{Description: &desc, Tags: &tags})
	if err != nil || m.Description != desc || strings.Join(m.Tags, ",") != "finance,weekly" {
		t.Fatalf("update = %+v, %v", m, err)
	}
	if page, err := alice.Models(ctx, client.ModelFilter{Tag: "weekly"}); err != nil || len(page.Models) != 1 {
		t.Errorf("list --tag weekly = %+v, %v", page, err)
	}
	none := []string{}
	if m, err := alice.UpdateModel(ctx, "churn", client.ModelUpdate{Tags: &none}); err != nil || len(m.Tags) != 0 || m.Description != desc {
		t.Errorf("update emptying tags = %+v, %v", m, err)
	}
	if _, err := alice.UpdateModel(ctx, "churn", client.ModelUpdate{}); !errdefs.IsInvalid(err) {
		t.Errorf("empty update = %v, want invalid", err)
	}
	all := auditActions(t, h)
	for _, want := range [][]string{{`"model.alias.delete"`, `"alice"`, `"success"`}, {`"model.update"`, `"alice"`, `"success"`}} {
		if !hasEvent(all, want...) {
			t.Errorf("no audit event with %v", want)
		}
	}
}

// TestModelOwnerOption: an administrator reaches a user's private model
// with ?owner=; a plain user naming an owner gets `model not found`
// exactly as for a missing model.
func TestModelOwnerOption(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	alice := h.User("alice", access.RoleUser)
	bob := h.User("bob", access.RoleUser)
	admin := h.User("boss", access.RoleUser, access.RoleAdmin)
	for i := range 2 {
		if _, _, err := alice.ImportModelDir(ctx, "churn", modelDir(t, map[string]string{"model.pkl": fmt.Sprint("w", i)}), "sklearn"); err != nil {
			t.Fatal(err)
		}
	}
	asAlice := client.ModelOwner("alice")
	if _, err := admin.Model(ctx, "churn"); !errdefs.IsNotFound(err) {
		t.Fatalf("admin without owner = %v, want not found (it resolves among the admin's own)", err)
	}
	ops := map[string]func(c *client.Client, ref string, o client.ModelOption) error{
		"show": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.Model(ctx, ref, o)
			return err
		},
		"versions": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.ModelVersions(ctx, ref, o)
			return err
		},
		"history": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.ModelHistory(ctx, ref, o)
			return err
		},
		"export": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.ExportModel(ctx, ref, io.Discard, o)
			return err
		},
		"alias set": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.SetModelAlias(ctx, ref, "staging", 1, "", o)
			return err
		},
		"alias remove": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.RemoveModelAlias(ctx, ref, "staging", "", o)
			return err
		},
		"rollback": func(c *client.Client, ref string, o client.ModelOption) error {
			_, err := c.RollbackModel(ctx, ref, 1, "", o)
			return err
		},
		"update": func(c *client.Client, ref string, o client.ModelOption) error {
			d := "by admin"
			_, err := c.UpdateModel(ctx, ref, client.ModelUpdate{Description: &d}, o)
			return err
		},
		"share": func(c *client.Client, ref string, o client.ModelOption) error {
			r := []string{"user"}
			_, err := c.ShareModel(ctx, ref, wire.ModelShareRequest{Read: &r}, o)
			return err
		},
	}
	for _, op := range []string{"show", "versions", "history", "export", "alias set", "alias remove", "rollback", "update", "share"} {
		if err := ops[op](admin, "churn", asAlice); err != nil {
			t.Errorf("admin %s with owner alice: %v", op, err)
		}
		errHidden, errMissing := ops[op](bob, "churn", asAlice), ops[op](bob, "nosuch", asAlice)
		if !errdefs.IsNotFound(errHidden) || errHidden.Error() != "model not found: churn" ||
			strings.Replace(errMissing.Error(), "nosuch", "churn", 1) != errHidden.Error() {
			t.Errorf("bob %s with owner alice: hidden %v, missing %v: want the same `model not found: NAME`", op, errHidden, errMissing)
		}
	}
	s, err := alice.Model(ctx, "churn")
	if err != nil || s.Version != 1 || s.Description != "by admin" || s.Sharing != "user" || strings.Join(s.ReadRoles, ",") != "user" {
		t.Errorf("alice sees after the admin's changes = %+v, %v", s, err)
	}
	if err := bob.DeleteModel(ctx, "churn", asAlice); err == nil || err.Error() != "model not found: churn" {
		t.Errorf("bob delete with owner alice = %v", err)
	}
	if err := admin.DeleteModel(ctx, "churn", asAlice); err != nil {
		t.Fatalf("admin delete with owner alice: %v", err)
	}
	if _, err := alice.Model(ctx, "churn"); !errdefs.IsNotFound(err) {
		t.Errorf("after the admin's delete: %v", err)
	}
}
