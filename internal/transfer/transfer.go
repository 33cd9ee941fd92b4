// Package transfer is the model archive format that moves a model version
// between a server and a client (models export and import) or between two
// servers: a tar file of manifest.json (the canonical manifest, whose
// digest is the version's digest), metadata.json (Metadata) and
// files/<path> for each file of the manifest, in any order. It also holds
// the content digest (sha256) that names blobs and versions.
//
// The package imports nothing of Dockyard but wire and errdefs, so that the
// client can read and write archives without the server's code.
package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// Names of the entries of a model archive.
const (
	ManifestName = "manifest.json" // canonical manifest: its digest is the version's digest
	MetadataName = "metadata.json" // Metadata
	FilesDir     = "files/"        // files/<path> for each manifest entry
)

// maxMetaBytes bounds manifest.json and metadata.json in an archive.
const maxMetaBytes = 64 << 20

// Digest names content: "sha256:" followed by 64 lowercase hex digits.
type Digest string

// ParseDigest validates s as a digest.
func ParseDigest(s string) (Digest, error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 64 {
		return "", errdefs.Invalidf("digest %q: want sha256: and 64 hex digits", s)
	}
	if _, err := hex.DecodeString(hexPart); err != nil || strings.ToLower(hexPart) != hexPart {
		return "", errdefs.Invalidf("digest %q: want sha256: and 64 lowercase hex digits", s)
	}
	return Digest(s), nil
}

// Hex returns the hex part of the digest.
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), "sha256:") }

// FromBytes returns the digest of b.
func FromBytes(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest("sha256:" + hex.EncodeToString(sum[:]))
}

// File is one file of a model version: its path, size and digest, and,
// when its bytes are still to be read (to write an archive or register a
// version), Reader or Open.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest Digest `json:"digest"`

	Reader io.Reader                     `json:"-"`
	Open   func() (io.ReadCloser, error) `json:"-"`
}

// Manifest lists a version's files sorted by path; the digest of its
// canonical JSON is the version's digest.
type Manifest struct {
	Files []File `json:"files"`
}

// Canonical returns the manifest's canonical JSON (files sorted by path)
// and its digest.
func (m Manifest) Canonical() ([]byte, Digest, error) {
	files := make([]File, len(m.Files))
	copy(files, m.Files)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	b, err := json.Marshal(Manifest{Files: files})
	if err != nil {
		return nil, "", err
	}
	return b, FromBytes(b), nil
}

// Lineage says where a version came from; fit fills it. It is the API's
// wire.ModelLineage: an archive records what the API shows.
type Lineage = wire.ModelLineage

// Metadata describes the archived version in metadata.json. An archive a
// client packs from a directory carries only Digest.
type Metadata struct {
	Model   string            `json:"model"`
	App     string            `json:"app"`
	Version int               `json:"version"`
	Digest  Digest            `json:"digest"`
	Algo    string            `json:"algo"`
	Params  map[string]string `json:"params"`
	FitInfo map[string]any    `json:"fit_info"`
	Lineage Lineage           `json:"lineage"`
	Creator string            `json:"creator"`
}

// ValidatePath checks a file path inside a version: relative, clean,
// slash-separated, without "." or ".." elements.
func ValidatePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p ||
		p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.ContainsRune(p, 0) {
		return errdefs.Invalidf("file path %q is not valid: use a clean relative path with '/' separators", p)
	}
	return nil
}
