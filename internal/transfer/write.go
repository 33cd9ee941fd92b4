package transfer

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Writer writes a model archive.
type Writer struct {
	tw      *tar.Writer
	modTime time.Time

	// manifest and metadata are the digests of what WriteMeta wrote.
	manifest, metadata Digest
}

// NewWriter returns a Writer to w whose entries carry modTime.
func NewWriter(w io.Writer, modTime time.Time) *Writer {
	return &Writer{tw: tar.NewWriter(w), modTime: modTime}
}

func (w *Writer) header(name string, size int64) error {
	return w.tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: w.modTime,
		Typeflag: tar.TypeReg, Format: tar.FormatPAX})
}

// WriteMeta writes manifest.json (man in canonical form) and
// metadata.json. meta.Digest is set to the manifest's digest; a different
// one already there is an error.
func (w *Writer) WriteMeta(man Manifest, meta Metadata) error {
	body, digest, err := man.Canonical()
	if err != nil {
		return err
	}
	if meta.Digest != "" && meta.Digest != digest {
		return fmt.Errorf("model archive: metadata names digest %s but the manifest's is %s", meta.Digest, digest)
	}
	meta.Digest = digest
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	w.manifest, w.metadata = digest, FromBytes(mb)
	for _, e := range []struct {
		name string
		b    []byte
	}{{ManifestName, body}, {MetadataName, mb}} {
		if err := w.header(e.name, int64(len(e.b))); err != nil {
			return err
		}
		if _, err := w.tw.Write(e.b); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes files/<f.Path> with the f.Size bytes read from r,
// hashing them on the way, and returns f's path with the size and digest
// of what it wrote. When f.Digest is set, other bytes are an error (the
// entry is written by then: discard the archive).
func (w *Writer) WriteFile(f File, r io.Reader) (File, error) {
	if err := ValidatePath(f.Path); err != nil {
		return File{}, err
	}
	if err := w.header(FilesDir+f.Path, f.Size); err != nil {
		return File{}, fmt.Errorf("file %s: %w", f.Path, err)
	}
	h := sha256.New()
	n, err := io.CopyN(io.MultiWriter(w.tw, h), r, f.Size)
	if err != nil {
		return File{}, fmt.Errorf("file %s: read %d of %d bytes: %w; did it change while it was read? try again", f.Path, n, f.Size, err)
	}
	got := File{Path: f.Path, Size: n, Digest: Digest("sha256:" + hex.EncodeToString(h.Sum(nil)))}
	if f.Digest != "" && got.Digest != f.Digest {
		return File{}, fmt.Errorf("file %s: its content has digest %s, want %s", f.Path, got.Digest, f.Digest)
	}
	return got, nil
}

// Close finishes the archive. It does not close the underlying writer.
func (w *Writer) Close() error { return w.tw.Close() }

// WriteFiles writes files (their bytes from Open, or Reader) as a model
// archive in one pass: files/<path> entries, then manifest.json with each
// file's size and digest as read, then metadata.json with the manifest's
// digest.
func WriteFiles(w io.Writer, files []File) error {
	aw := NewWriter(w, time.Time{})
	var man Manifest
	for _, f := range files {
		got, err := writeOne(aw, f)
		if err != nil {
			return err
		}
		man.Files = append(man.Files, got)
	}
	if err := aw.WriteMeta(man, Metadata{}); err != nil {
		return err
	}
	return aw.Close()
}

func writeOne(aw *Writer, f File) (File, error) {
	r := f.Reader
	if f.Open != nil {
		rc, err := f.Open()
		if err != nil {
			return File{}, fmt.Errorf("file %s: %w", f.Path, err)
		}
		defer rc.Close()
		r = rc
	}
	if r == nil {
		return File{}, fmt.Errorf("file %s: no content to write (set Open or Reader)", f.Path)
	}
	return aw.WriteFile(f, r)
}
