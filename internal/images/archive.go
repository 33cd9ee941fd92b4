package images

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// An image archive (images save, images load) is an OCI image layout
// (oci-layout, index.json, blobs/sha256/<hex>) in a tar file. index.json
// lists the image, a cosign-format signature image holding the entry's
// signatures of its digest, and a scan artifact holding its newest scan
// report, each told apart by the annotation AnnKind.
const (
	AnnKind      = "dev.dockyard.kind"        // KindImage, KindSignatures or KindScan
	AnnName      = "dev.dockyard.image.name"  // the entry's name
	AnnTitle     = "dev.dockyard.image.title" // its title
	AnnGPU       = "dev.dockyard.image.gpu"   // "true" for a GPU image
	AnnRefName   = "org.opencontainers.image.ref.name"
	KindImage    = "image"
	KindSigs     = "signatures"
	KindScan     = "scan"
	ScanMediaTyp = "application/vnd.dockyard.image.scan.v1+json"
)

// archivedScan is the scan artifact's layer: a scan report as imported.
type archivedScan struct {
	Digest     string    `json:"digest"`
	Format     string    `json:"format"`
	Scanned    time.Time `json:"scanned"`
	Findings   string    `json:"findings"`
	ImportedBy string    `json:"imported_by"`
	Imported   time.Time `json:"imported"`
}

// ImageReader is a Registry that reads whole images (for images save).
type ImageReader interface {
	Image(ctx context.Context, ref string) (v1.Image, error)
}

// ImageSaver writes an image on the engine as `docker save` does.
type ImageSaver interface {
	SaveImage(ctx context.Context, ref string) (io.ReadCloser, error)
}

// ImageLoader loads a `docker save` archive into the engine.
type ImageLoader interface {
	LoadImage(ctx context.Context, r io.Reader) error
}

// image returns the content e pins as a go-containerregistry image.
func (c *Catalogue) image(ctx context.Context, e Entry, tmp string) (v1.Image, error) {
	switch e.Source {
	case SourceRegistry:
		r, ok := c.o.Registry.(ImageReader)
		if !ok {
			return nil, errdefs.Unavailablef("image %q: this server cannot read images from registries", e.Name)
		}
		return r.Image(ctx, e.RunRef)
	case SourceEngine:
		s, ok := c.o.Engines[e.Runtime].(ImageSaver)
		if !ok {
			return nil, errdefs.Unavailablef("image %q: this server's %s runtime cannot save images", e.Name, e.Runtime)
		}
		return engineImage(ctx, s, e, tmp)
	}
	return nil, errdefs.Invalidf("image %q is the dockyard executable: there is no image to save (copy the executable)", e.Name)
}

// SaveArchive writes the entry called name as an image archive to w: the pinned
// image, its stored signatures and its newest scan report. tmp is a
// directory for the layout while it is built.
func (c *Catalogue) SaveArchive(ctx context.Context, name string, w io.Writer, tmp string) (Entry, error) {
	e, err := c.Get(ctx, name)
	if err != nil {
		return Entry{}, err
	}
	dir, err := tempDir(tmp, "image-save-")
	if err != nil {
		return Entry{}, err
	}
	defer os.RemoveAll(dir)
	img, err := c.image(ctx, e, dir)
	if err != nil {
		return Entry{}, err
	}
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		return Entry{}, err
	}
	ann := map[string]string{AnnKind: KindImage, AnnName: e.Name, AnnRefName: e.Ref}
	if e.Title != "" {
		ann[AnnTitle] = e.Title
	}
	if e.GPU {
		ann[AnnGPU] = "true"
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
		return Entry{}, fmt.Errorf("image %q: writing it: %w", name, err)
	}
	if c.o.Signing != nil {
		stored, err := c.o.Signing.ListImageSignatures(ctx, e.Name, e.Digest)
		if err != nil {
			return Entry{}, err
		}
		if len(stored) > 0 {
			sigs := make([]Sig, len(stored))
			for i, s := range stored {
				sigs[i] = Sig{Payload: []byte(s.Payload), Signature: s.Signature}
			}
			si, err := SignatureImage(sigs)
			if err != nil {
				return Entry{}, err
			}
			if err := lp.AppendImage(si, layout.WithAnnotations(map[string]string{AnnKind: KindSigs, AnnName: e.Name})); err != nil {
				return Entry{}, err
			}
		}
	}
	if c.o.Scans != nil {
		sc, err := c.o.Scans.LatestImageScan(ctx, e.Name, e.Digest)
		if err == nil {
			b, _ := json.Marshal(archivedScan{Digest: sc.Digest, Format: sc.Format, Scanned: sc.Scanned, Findings: sc.Findings, ImportedBy: sc.ImportedBy, Imported: sc.Imported})
			art, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON),
				mutate.Addendum{Layer: static.NewLayer(b, ScanMediaTyp)})
			if err != nil {
				return Entry{}, err
			}
			if err := lp.AppendImage(art, layout.WithAnnotations(map[string]string{AnnKind: KindScan, AnnName: e.Name})); err != nil {
				return Entry{}, err
			}
		} else if !errdefs.IsNotFound(err) {
			return Entry{}, err
		}
	}
	return e, tarDir(w, string(lp))
}

// tarDir writes the regular files under dir to w as a tar file, by name.
func tarDir(w io.Writer, dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	tw := tar.NewWriter(w)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		if err := tarFile(tw, filepath.ToSlash(rel), p); err != nil {
			return err
		}
	}
	return tw.Close()
}

func tarFile(tw *tar.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: st.Size(), Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

var blobRE = regexp.MustCompile(`^blobs/sha256/[0-9a-f]{64}$`)

// damaged is the error of an archive that does not hold what it says.
func damaged(format string, args ...any) error {
	return errdefs.Invalidf("the image archive was changed or damaged: "+format+"; nothing was loaded: save it again with `dockyard images save`", args...)
}

// unpack extracts an image archive into dir, refusing anything but the
// layout's files, and checks every blob against its digest.
func unpack(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errdefs.Invalidf("the image archive is not a valid tar file (%w): give a file `dockyard images save` wrote", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return errdefs.Invalidf("the image archive entry %q is not a regular file", h.Name)
		}
		if name != "oci-layout" && name != "index.json" && !blobRE.MatchString(name) {
			return errdefs.Invalidf("the image archive entry %q is unexpected: an OCI image layout holds oci-layout, index.json and blobs/sha256/<digest>", h.Name)
		}
		if seen[name] {
			return errdefs.Invalidf("the image archive holds %q twice", name)
		}
		seen[name] = true
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		hash := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, hash), tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("the image archive entry %q: %w", h.Name, err)
		}
		if strings.HasPrefix(name, "blobs/") {
			if got, want := hex.EncodeToString(hash.Sum(nil)), strings.TrimPrefix(name, "blobs/sha256/"); got != want {
				return damaged("blob sha256:%s has the digest sha256:%s", want, got)
			}
		}
	}
	if !seen["index.json"] || !seen["oci-layout"] {
		return errdefs.Invalid("the image archive is not an OCI image layout (no index.json or oci-layout): give a file `dockyard images save` wrote")
	}
	return nil
}

// checkBlob checks that the layout holds the blob d names, of its size.
func checkBlob(dir string, d v1.Descriptor) error {
	st, err := os.Stat(filepath.Join(dir, "blobs", d.Digest.Algorithm, d.Digest.Hex))
	if d.Digest.Algorithm != "sha256" || err != nil {
		return damaged("blob %s is missing", d.Digest)
	}
	if st.Size() != d.Size {
		return damaged("blob %s has %d bytes, its manifest says %d", d.Digest, st.Size(), d.Size)
	}
	return nil
}

// archive is an unpacked, verified image archive.
type archive struct {
	dir      string
	desc     v1.Descriptor // the image's
	img      v1.Image
	manifest []byte
	sigs     []Sig
	scan     *archivedScan
}

// readArchive unpacks r into dir and verifies it: every blob against its
// digest, every manifest's blobs present with their sizes.
func readArchive(r io.Reader, dir string) (*archive, error) {
	if err := unpack(r, dir); err != nil {
		return nil, err
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, damaged("%v", err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, damaged("index.json: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, damaged("index.json: %v", err)
	}
	a := &archive{dir: dir}
	found := false
	for _, d := range im.Manifests {
		if err := checkBlob(dir, d); err != nil {
			return nil, err
		}
		if d.MediaType.IsIndex() {
			return nil, errdefs.Invalidf("the image archive holds an image index (%s): images load takes one platform's image, as images save writes it", d.Digest)
		}
		img, err := lp.Image(d.Digest)
		if err != nil {
			return nil, damaged("manifest %s: %v", d.Digest, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, damaged("manifest %s: %v", d.Digest, err)
		}
		for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			if err := checkBlob(dir, b); err != nil {
				return nil, err
			}
		}
		switch d.Annotations[AnnKind] {
		case KindImage:
			if found {
				return nil, errdefs.Invalid("the image archive holds more than one image: images load takes one, as images save writes it")
			}
			found = true
			a.desc, a.img = d, img
			if a.manifest, err = img.RawManifest(); err != nil {
				return nil, err
			}
		case KindSigs:
			sigs, err := ReadSignatureImage(img)
			if err != nil {
				return nil, damaged("signatures: %v", err)
			}
			a.sigs = append(a.sigs, sigs...)
		case KindScan:
			ls, err := img.Layers()
			if err != nil || len(ls) != 1 {
				return nil, damaged("the scan report artifact %s", d.Digest)
			}
			rc, err := ls[0].Compressed()
			if err != nil {
				return nil, damaged("the scan report: %v", err)
			}
			var sc archivedScan
			err = json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&sc)
			rc.Close()
			if err != nil {
				return nil, damaged("the scan report: %v", err)
			}
			a.scan = &sc
		}
	}
	if !found {
		return nil, errdefs.Invalid("the image archive names no image (annotation dev.dockyard.kind=image): give a file `dockyard images save` wrote")
	}
	return a, nil
}

// tempDir makes a private directory under tmp (created when missing; ""
// is the system's temporary directory).
func tempDir(tmp, prefix string) (string, error) {
	if tmp != "" {
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			return "", err
		}
	}
	return os.MkdirTemp(tmp, prefix)
}
