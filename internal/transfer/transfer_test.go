package transfer

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func digestOf(s string) Digest {
	sum := sha256.Sum256([]byte(s))
	return Digest("sha256:" + hex.EncodeToString(sum[:]))
}

// memPut keeps the bytes Read hands it, by digest.
type memPut map[Digest]string

func (m memPut) put(_ string, r io.Reader) (Digest, int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	d := FromBytes(b)
	m[d] = string(b)
	return d, int64(len(b)), nil
}

// TestWriteFilesRoundTrip: an archive packed in one pass (files first,
// manifest last) reads back with every file, size and digest.
func TestWriteFilesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	err := WriteFiles(&buf, []File{
		{Path: "b/model.json", Size: 7, Reader: strings.NewReader(`{"k":1}`)},
		{Path: "a.bin", Size: 5, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("alpha")), nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := memPut{}
	files, meta, err := Read(&buf, m.put)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := map[string]string{"a.bin": "alpha", "b/model.json": `{"k":1}`}
	if len(files) != 2 {
		t.Fatalf("read %d files, want 2: %+v", len(files), files)
	}
	for _, f := range files {
		if f.Digest != digestOf(want[f.Path]) || f.Size != int64(len(want[f.Path])) || m[f.Digest] != want[f.Path] {
			t.Errorf("file %+v, stored %q; want %q", f, m[f.Digest], want[f.Path])
		}
	}
	if _, d, _ := (Manifest{Files: files}).Canonical(); meta.Digest != d {
		t.Errorf("metadata digest %s, want the manifest's %s", meta.Digest, d)
	}
}

// TestWriterManifestFirst: the server's layout (manifest and metadata
// first, then the files) reads back with its metadata.
func TestWriterManifestFirst(t *testing.T) {
	files := []File{{Path: "m.pkl", Size: 3, Digest: digestOf("abc")}}
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Unix(1700000000, 0))
	meta := Metadata{Model: "M", App: "search", Version: 2, Algo: "nb", Lineage: Lineage{Notebook: "nb", Rows: 10}}
	if err := w.WriteMeta(Manifest{Files: files}, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteFile(files[0], strings.NewReader("abc")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	var names []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "manifest.json,metadata.json,files/m.pkl" {
		t.Errorf("entries %v", names)
	}
	got, gotMeta, err := Read(bytes.NewReader(buf.Bytes()), memPut{}.put)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != files[0].Digest || gotMeta.Model != "M" || gotMeta.Version != 2 || gotMeta.Lineage.Rows != 10 {
		t.Errorf("read %+v, %+v", got, gotMeta)
	}
}

func TestWriterRefusesMismatches(t *testing.T) {
	w := NewWriter(io.Discard, time.Time{})
	files := []File{{Path: "m.pkl", Size: 3, Digest: digestOf("abc")}}
	if err := w.WriteMeta(Manifest{Files: files}, Metadata{Digest: digestOf("other")}); err == nil || !strings.Contains(err.Error(), "metadata names digest") {
		t.Errorf("metadata with another digest: %v", err)
	}
	if _, err := w.WriteFile(files[0], strings.NewReader("abd")); err == nil || !strings.Contains(err.Error(), "want "+string(digestOf("abc"))) {
		t.Errorf("content of another digest: %v", err)
	}
	if _, err := w.WriteFile(File{Path: "short", Size: 10}, strings.NewReader("abc")); err == nil || !strings.Contains(err.Error(), "read 3 of 10 bytes") {
		t.Errorf("a file shorter than its size: %v", err)
	}
	if _, err := w.WriteFile(File{Path: "../escape", Size: 1}, strings.NewReader("x")); !errdefs.IsInvalid(err) {
		t.Errorf("a path outside the archive: %v", err)
	}
	if err := WriteFiles(io.Discard, []File{{Path: "x", Size: 1}}); err == nil || !strings.Contains(err.Error(), "no content") {
		t.Errorf("a file without content: %v", err)
	}
	rerr := iotest.ErrReader(os.ErrPermission)
	if err := WriteFiles(io.Discard, []File{{Path: "x", Size: 1, Reader: rerr}}); err == nil || !strings.Contains(err.Error(), "file x") {
		t.Errorf("a failing reader: %v", err)
	}
}

// tarOf writes entries in order; a nil body is a directory.
func tarOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Size: int64(len(e[1])), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	return buf.Bytes()
}

// TestReadRejects: what is not a faithful archive fails as invalid, naming
// the problem.
func TestReadRejects(t *testing.T) {
	man := func(files ...File) string {
		b, _, err := Manifest{Files: files}.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a := File{Path: "a", Size: 5, Digest: digestOf("alpha")}
	for _, tc := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"not a tar", []byte(strings.Repeat("x", 1024)), "not a valid tar file"},
		{"no manifest", tarOf(t, [2]string{"files/a", "alpha"}), "has no manifest.json"},
		{"changed file", tarOf(t, [2]string{"manifest.json", man(a)}, [2]string{"files/a", "alphA"}), `file "a" does not match the manifest`},
		{"missing file", tarOf(t, [2]string{"manifest.json", man(a)}), `file "a" is in the manifest but missing`},
		{"extra file", tarOf(t, [2]string{"manifest.json", man(a)}, [2]string{"files/a", "alpha"}, [2]string{"files/b", "b"}), `file "b" is not in the manifest`},
		{"twice", tarOf(t, [2]string{"files/a", "alpha"}, [2]string{"files/a", "alpha"}), `holds file "a" twice`},
		{"escape", tarOf(t, [2]string{"files/../a", "alpha"}), "is not valid"},
		{"unexpected", tarOf(t, [2]string{"README", "hi"}), `entry "README" is unexpected`},
		{"bad manifest", tarOf(t, [2]string{"manifest.json", "{"}), "manifest.json is not valid"},
		{"metadata digest", tarOf(t, [2]string{"manifest.json", man(a)}, [2]string{"metadata.json", `{"digest":"` + string(digestOf("x")) + `"}`},
			[2]string{"files/a", "alpha"}), "does not match the digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(tc.archive), memPut{}.put)
			if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an invalid error containing %q", err, tc.want)
			}
		})
	}
}

func TestDirFiles(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "m.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.bin"), []byte("alpha"), 0o644)
	if err := os.Symlink(filepath.Join(dir, "a.bin"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	files, skipped, err := DirFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "a.bin" || files[0].Size != 5 || files[1].Path != "sub/m.json" {
		t.Errorf("files %+v", files)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "skipped link: symbolic links") {
		t.Errorf("skipped %q", skipped)
	}
	rc, err := files[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "alpha" {
		t.Errorf("opened %q", b)
	}
	if _, _, err := DirFiles(t.TempDir()); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "no regular files") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestParseDigestAndPaths(t *testing.T) {
	good := string(digestOf("x"))
	if d, err := ParseDigest(good); err != nil || d.Hex() != strings.TrimPrefix(good, "sha256:") {
		t.Errorf("ParseDigest(%s) = %s, %v", good, d, err)
	}
	for _, bad := range []string{"", "sha256:abc", "md5:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64)} {
		if _, err := ParseDigest(bad); !errdefs.IsInvalid(err) {
			t.Errorf("ParseDigest(%q) = %v, want invalid", bad, err)
		}
	}
	for _, p := range []string{"a", "a/b.json", "dir/.hidden"} {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "../a", "a/../b", "a\\b", ".", "a//b", "a\x00"} {
		if err := ValidatePath(p); !errdefs.IsInvalid(err) {
			t.Errorf("ValidatePath(%q) = %v, want invalid", p, err)
		}
	}
}
