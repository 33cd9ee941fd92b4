package transfer

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Put stores the bytes of one archived file and returns their digest and
// size.
type Put func(path string, r io.Reader) (Digest, int64, error)

// Read reads a model archive, handing each file's bytes to put, and checks
// every file against the manifest. It returns the manifest's files (with
// digest and size, without content) and the metadata. A changed, missing
// or extra file, a manifest that does not match the digest in
// metadata.json, or an archive that is not one fails with an
// errdefs.ErrInvalid error naming the problem; what put stored by then is
// not referenced by anything.
func Read(r io.Reader, put Put) ([]File, Metadata, error) {
	b, err := ReadBundle(r, put)
	return b.Files, b.Metadata, err
}

// Bundle is a model archive as read: its files, metadata and, when it is
// signed, the signature (checked against the archive's digests and its
// own key: Signer is that key's id; whether it is trusted is the
// importer's decision).
type Bundle struct {
	Files     []File
	Metadata  Metadata
	Signature *Signature
	Signer    string
}

// ReadBundle is Read that also reads and verifies signature.json: a
// signature that does not verify, or signs other content, fails with an
// errdefs.ErrInvalid error (the archive was changed after it was signed).
func ReadBundle(r io.Reader, put Put) (Bundle, error) {
	var man *Manifest
	var meta Metadata
	var sig *Signature
	var manDigest, metaDigest Digest
	got := map[string]File{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Bundle{}, errdefs.Invalidf("model archive is not a valid tar file: %w", err)
		}
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag != tar.TypeReg:
			return Bundle{}, errdefs.Invalidf("model archive entry %q is not a regular file", h.Name)
		case h.Name == ManifestName:
			man = &Manifest{}
			if manDigest, err = readJSON(tr, man); err != nil {
				return Bundle{}, errdefs.Invalidf("model archive: %s is not valid: %w", ManifestName, err)
			}
		case h.Name == MetadataName:
			if metaDigest, err = readJSON(tr, &meta); err != nil {
				return Bundle{}, errdefs.Invalidf("model archive: %s is not valid: %w", MetadataName, err)
			}
		case h.Name == SignatureName:
			sig = &Signature{}
			if _, err := readJSON(tr, sig); err != nil {
				return Bundle{}, errdefs.Invalidf("model archive: %s is not valid: %w", SignatureName, err)
			}
		case strings.HasPrefix(h.Name, FilesDir):
			path := strings.TrimPrefix(h.Name, FilesDir)
			if err := ValidatePath(path); err != nil {
				return Bundle{}, fmt.Errorf("model archive entry %q: %w", h.Name, err)
			}
			if _, dup := got[path]; dup {
				return Bundle{}, errdefs.Invalidf("model archive holds file %q twice", path)
			}
			d, n, err := put(path, tr)
			if err != nil {
				return Bundle{}, fmt.Errorf("model archive file %q: %w", path, err)
			}
			got[path] = File{Path: path, Digest: d, Size: n}
		default:
			return Bundle{}, errdefs.Invalidf("model archive entry %q is unexpected: want %s, %s, %s and %s<path>",
				h.Name, ManifestName, MetadataName, SignatureName, FilesDir)
		}
	}
	files, err := check(man, meta, got)
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Files: files, Metadata: meta, Signature: sig}
	if sig != nil {
		// The manifest's canonical digest: the one the version gets.
		_, d, err := man.Canonical()
		if err != nil {
			return Bundle{}, err
		}
		if d != manDigest {
			return Bundle{}, errdefs.Invalidf("model archive: a signed archive's %s must be canonical (as models export writes it)", ManifestName)
		}
		if b.Signer, err = sig.Verify(d, metaDigest); err != nil {
			return Bundle{}, err
		}
	}
	return b, nil
}

// readJSON decodes one JSON entry and returns the digest of its bytes.
func readJSON(rd io.Reader, into any) (Digest, error) {
	b, err := io.ReadAll(io.LimitReader(rd, maxMetaBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxMetaBytes {
		return "", fmt.Errorf("larger than %d bytes", maxMetaBytes)
	}
	return FromBytes(b), json.Unmarshal(b, into)
}

// check compares the files received with the manifest.
func check(man *Manifest, meta Metadata, got map[string]File) ([]File, error) {
	if man == nil {
		return nil, errdefs.Invalid("model archive has no " + ManifestName + "; export it with models export")
	}
	if meta.Digest != "" {
		if _, d, err := man.Canonical(); err != nil || d != meta.Digest {
			return nil, errdefs.Invalidf("model archive: %s does not match the digest %s in %s", ManifestName, meta.Digest, MetadataName)
		}
	}
	want := map[string]bool{}
	var files []File
	for _, f := range man.Files {
		if err := ValidatePath(f.Path); err != nil {
			return nil, fmt.Errorf("model archive manifest: %w", err)
		}
		want[f.Path] = true
		g, ok := got[f.Path]
		switch {
		case !ok:
			return nil, errdefs.Invalidf("model archive: file %q is in the manifest but missing from the archive", f.Path)
		case g.Digest != f.Digest || g.Size != f.Size:
			return nil, errdefs.Invalidf("model archive: file %q does not match the manifest (sha256 %s, want %s): the archive was changed or damaged",
				f.Path, g.Digest.Hex(), f.Digest.Hex())
		}
		files = append(files, File{Path: f.Path, Digest: f.Digest, Size: f.Size})
	}
	extra := []string{}
	for p := range got {
		if !want[p] {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, errdefs.Invalidf("model archive: file %q is not in the manifest", extra[0])
	}
	return files, nil
}
