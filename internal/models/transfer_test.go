package models

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/transfer"

	"github.com/dockyard/dockyard/internal/transfer/transfertest"
)

// exportOne registers a two-file version with lineage and exports it.
func exportOne(t *testing.T, e *testEnv) (Version, []byte) {
	t.Helper()
	v, err := e.reg.RegisterVersion(as(alice), ref(t, "app:Src"), VersionInput{
		Algo: "nb", Params: map[string]string{"k": "v"}, Lineage: Lineage{Notebook: "nb", Rows: 10,
			NotebookDigest: "sha256:" + strings.Repeat("ab", 32), NotebookVersion: 3, NotebookFormat: "py", NotebookPinned: true},
		Files: []File{{Path: "a.bin", Reader: strings.NewReader("alpha")}, {Path: "dir/b.json", Reader: strings.NewReader(`{"b":1}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := e.reg.ExportTar(as(dave), ref(t, "app:Src@1"), &buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	return v, buf.Bytes()
}

// rewriteTar copies an archive through edit, which may change an entry's
// content or drop it (nil), and adds extra entries at the end.
func rewriteTar(t *testing.T, in []byte, edit func(name string, b []byte) []byte, extra map[string]string) []byte {
	return transfertest.Rewrite(t, in, edit, extra)
}

func keep(_ string, b []byte) []byte { return b }

func TestExportImportRoundTrip(t *testing.T) {
	src := newEnv(t, Options{})
	v, archive := exportOne(t, src)
	dst := newEnv(t, Options{}) // another installation
	got, err := dst.reg.ImportTar(as(carol), ref(t, "Copy"), bytes.NewReader(archive), "")
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if got.Digest != v.Digest || got.Algo != "nb" || got.Params["k"] != "v" || got.Lineage.Rows != 10 || got.Version != 1 ||
		got.Lineage.NotebookDigest != v.Lineage.NotebookDigest || got.Lineage.NotebookVersion != 3 {
		t.Errorf("imported %+v, want digest %s with the source's metadata", got, v.Digest)
	}
	// An archive's lineage is a record only: it never pins the code that
	// apply runs (an archive could name any notebook digest).
	if !v.Lineage.NotebookPinned || got.Lineage.NotebookPinned {
		t.Errorf("pinned: source %v, imported %v; want the import unpinned", v.Lineage.NotebookPinned, got.Lineage.NotebookPinned)
	}
	rc, err := dst.reg.OpenFile(as(carol), ref(t, "Copy"), fileDigest(t, dst, carol, "Copy", "dir/b.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != `{"b":1}` {
		t.Errorf("imported file %q", b)
	}
	// An algo given on import wins over the archive's.
	got, err = dst.reg.ImportTar(as(carol), ref(t, "Copy"), bytes.NewReader(archive), "other")
	if err != nil || got.Version != 2 || got.Algo != "other" {
		t.Errorf("second import: %+v, %v", got, err)
	}
}

func fileDigest(t *testing.T, e *testEnv, p *access.Principal, model, path string) blob.Digest {
	t.Helper()
	_, files, err := e.reg.Files(as(p), ref(t, model))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == path {
			return f.Digest
		}
	}
	t.Fatalf("%s has no file %s", model, path)
	return ""
}

// TestImportTarRejectsTampering: a changed, missing or extra file, or a
// changed manifest, fails the import naming the problem; nothing is
// registered.
func TestImportTarRejectsTampering(t *testing.T) {
	e := newEnv(t, Options{})
	_, archive := exportOne(t, e)
	cases := []struct {
		name    string
		archive []byte
		mention string
	}{
		{"changed file", rewriteTar(t, archive, func(n string, b []byte) []byte {
			if n == "files/a.bin" {
				return []byte("alphA")
			}
			return b
		}, nil), `"a.bin"`},
		{"missing file", rewriteTar(t, archive, func(n string, b []byte) []byte {
			if n == "files/dir/b.json" {
				return nil
			}
			return b
		}, nil), `"dir/b.json"`},
		{"extra file", rewriteTar(t, archive, keep, map[string]string{"files/evil.py": "import os"}), `"evil.py"`},
		{"no manifest", rewriteTar(t, archive, func(n string, b []byte) []byte {
			if n == transfer.ManifestName {
				return nil
			}
			return b
		}, nil), transfer.ManifestName},
		{"manifest rewritten to match a changed file", rewriteTar(t, archive, func(n string, b []byte) []byte {
			if n == transfer.ManifestName {
				return bytes.Replace(b, []byte(`"path":"a.bin","size":5`), []byte(`"path":"a.bin","size":6`), 1)
			}
			return b
		}, nil), transfer.ManifestName},
		{"path escape", rewriteTar(t, archive, keep, map[string]string{"files/../x": "x"}), "../x"},
		{"not a tar", []byte("hello, this is not a tar archive at all, but it is long enough to be read"), "tar"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.reg.ImportTar(as(bob), ref(t, "app:Dst"), bytes.NewReader(c.archive), "nb")
			mustKind(t, "import", err, "invalid")
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %s", err, c.mention)
			}
			_, err = e.reg.Show(as(bob), ref(t, "app:Dst"))
			mustKind(t, "model after a rejected import", err, "notfound")
		})
	}
}

func TestImportDirSkipsSymlinks(t *testing.T) {
	e := newEnv(t, Options{})
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("pickle"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "vocab.txt"), []byte("a b c"), 0o644)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks unavailable here: %v", err)
	}
	v, skipped, err := e.reg.ImportDir(as(alice), ref(t, "Imported"), dir, "sklearn")
	if err != nil {
		t.Fatal(err)
	}
	if v.Files != 2 || v.Algo != "sklearn" || len(skipped) != 1 || !strings.Contains(skipped[0], "link") {
		t.Errorf("import: %+v, skipped %q", v, skipped)
	}
	if d := fileDigest(t, e, alice, "Imported", "sub/vocab.txt"); d != blob.FromBytes([]byte("a b c")) {
		t.Errorf("sub/vocab.txt has digest %s", d)
	}
	_, _, err = e.reg.ImportDir(as(alice), ref(t, "Empty"), t.TempDir(), "x")
	mustKind(t, "empty directory", err, "invalid")
}
