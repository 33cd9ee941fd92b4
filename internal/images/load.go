package images

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

// LoadRequest says where images load puts an archive's image: pushed to
// the registry repository Push (HOST[:PORT]/REPO), or, when Push is "",
// loaded into the Docker Engine; the entry is called Name, or the name
// the archive carries.
type LoadRequest struct {
	Name string
	Push string
}

// Loaded is what images load adds: the entry, its signatures and its scan
// report (nil when the archive has none), to store in one transaction.
type Loaded struct {
	Entry      Entry
	Signatures []Signature
	Scan       *store.ImageScan
	Digest     string // the manifest digest of the archive's image
}

// ImageWriter is a Registry that writes images (for images load --push).
type ImageWriter interface {
	Write(ctx context.Context, ref string, img v1.Image) error
}

// LoadedTag is the tag an image loaded into the engine gets: local (no
// registry host), named by its manifest digest.
func LoadedTag(manifestDigest string) string {
	return "dockyard-load/image:" + strings.TrimPrefix(manifestDigest, "sha256:")
}

// Load reads an image archive (SaveArchive's), verifies every digest in
// it, puts its image where req says and returns the entry that pins it,
// with the archive's signatures and scan report, to store (Create,
// SaveSignatures, StoreScan). A changed or damaged archive is refused,
// and nothing is pushed or loaded. tmp is a directory to unpack it in.
func (c *Catalogue) Load(ctx context.Context, user string, r io.Reader, req LoadRequest, tmp string) (Loaded, error) {
	dir, err := tempDir(tmp, "image-load-")
	if err != nil {
		return Loaded{}, err
	}
	defer os.RemoveAll(dir)
	a, err := readArchive(r, dir)
	if err != nil {
		return Loaded{}, err
	}
	nm := req.Name
	if nm == "" {
		nm = a.desc.Annotations[AnnName]
	}
	if err := CheckName(nm); err != nil {
		return Loaded{}, err
	}
	if nm == ProcessImage {
		return Loaded{}, errdefs.Invalidf("image %q is built in: load the archive under another name (--name)", nm)
	}
	if _, err := c.Get(ctx, nm); err == nil {
		return Loaded{}, errdefs.Conflictf("image %q is already in the catalogue: load the archive under another name (--name), or remove the entry first", nm)
	}
	digest := a.desc.Digest.String()
	add := AddRequest{Name: nm, Title: a.desc.Annotations[AnnTitle], GPU: a.desc.Annotations[AnnGPU] == "true", Runtime: RuntimeDocker}
	if req.Push != "" {
		if add.Ref, err = c.push(ctx, a, req.Push); err != nil {
			return Loaded{}, err
		}
	} else {
		if add.Ref, err = c.loadEngine(ctx, a); err != nil {
			return Loaded{}, err
		}
	}
	e, err := c.NewEntry(ctx, user, add)
	if err != nil {
		return Loaded{}, err
	}
	cfg, _ := a.img.ConfigName()
	if e.Digest != digest && e.Digest != cfg.String() {
		return Loaded{}, errdefs.Unavailablef("image %q: %s now names %s, not the archive's image %s (or its config %s): was it changed meanwhile? load it again",
			nm, add.Ref, e.Digest, digest, cfg)
	}
	out := Loaded{Entry: e, Digest: digest}
	for _, s := range a.sigs {
		p, err := signing.ParsePayload(s.Payload)
		if err != nil || p.Critical.Image.DockerManifestDigest != digest {
			continue
		}
		sg := Signature{Image: nm, Digest: digest, Payload: string(s.Payload), Signature: s.Signature, Source: SignatureFromArchive,
			AddedBy: user, Added: c.o.Now().UTC()}
		if e.Digest != digest {
			sg.Manifest = string(a.manifest) // binds the config the engine pins
		}
		out.Signatures = append(out.Signatures, sg)
	}
	if sc := a.scan; sc != nil && (sc.Digest == digest || sc.Digest == cfg.String()) {
		// The content is the archive's, verified: its report holds for
		// the digest the entry pins now.
		out.Scan = &store.ImageScan{Image: nm, Digest: e.Digest, Format: sc.Format, Scanned: sc.Scanned, Findings: sc.Findings,
			ImportedBy: sc.ImportedBy, Imported: c.o.Now().UTC()}
	}
	return out, nil
}

// push writes the archive's image and signatures to the repository
// HOST/REPO and returns the reference to pin.
func (c *Catalogue) push(ctx context.Context, a *archive, repo string) (string, error) {
	w, ok := c.o.Registry.(ImageWriter)
	if !ok {
		return "", errdefs.Unavailable("this server cannot push images to registries")
	}
	if strings.ContainsAny(repo, "@") || strings.Count(repo, ":") > strings.Count(strings.SplitN(repo, "/", 2)[0], ":") {
		return "", errdefs.Invalidf("--push %q: give HOST[:PORT]/REPO without a tag or digest (the tag is the archive's)", repo)
	}
	r, err := name.NewRepository(repo, name.StrictValidation)
	if err != nil || !IsRemote(repo) {
		return "", errdefs.Invalidf("--push %q: give the registry repository as HOST[:PORT]/REPO", repo)
	}
	tag := "latest"
	if t, err := name.NewTag(a.desc.Annotations[AnnRefName]); err == nil && a.desc.Annotations[AnnRefName] != "" && strings.Contains(a.desc.Annotations[AnnRefName], ":") {
		tag = t.TagStr()
	}
	ref := r.Name() + ":" + tag
	if err := w.Write(ctx, ref, a.img); err != nil {
		return "", err
	}
	if len(a.sigs) > 0 {
		si, err := SignatureImage(a.sigs)
		if err != nil {
			return "", err
		}
		st, err := SignatureTag(r.Name(), a.desc.Digest.String())
		if err != nil {
			return "", err
		}
		if err := w.Write(ctx, st.String(), si); err != nil {
			return "", fmt.Errorf("pushing the image's signatures: %w", err)
		}
	}
	return ref, nil
}

// loadEngine loads the archive's image into the Docker Engine (as a
// `docker save` archive of the verified blobs, which engines before OCI
// layout support load too) and returns its local tag.
func (c *Catalogue) loadEngine(ctx context.Context, a *archive) (string, error) {
	l, ok := c.o.Engines[RuntimeDocker].(ImageLoader)
	if !ok {
		return "", errdefs.Invalid("this server has no Docker runtime to load the image into: push it to a registry with --push HOST/REPO")
	}
	m, err := a.img.Manifest()
	if err != nil {
		return "", err
	}
	tag := LoadedTag(a.desc.Digest.String())
	blob := func(d v1.Descriptor) string { return "blobs/sha256/" + d.Digest.Hex }
	dm := []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: blob(m.Config), RepoTags: []string{tag}}}
	for _, d := range m.Layers {
		dm[0].Layers = append(dm[0].Layers, blob(d))
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(func() error {
			tw := tar.NewWriter(pw)
			b, _ := json.Marshal(dm)
			if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
				if p := blob(d); !seen[p] {
					seen[p] = true
					if err := tarFile(tw, p, filepath.Join(a.dir, filepath.FromSlash(p))); err != nil {
						return err
					}
				}
			}
			return tw.Close()
		}())
	}()
	err = l.LoadImage(ctx, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return "", fmt.Errorf("loading the image into the Docker Engine: %w", err)
	}
	return tag, nil
}

// engineImage reads an engine's image as `docker save` writes it.
func engineImage(ctx context.Context, s ImageSaver, e Entry, tmp string) (v1.Image, error) {
	rc, err := s.SaveImage(ctx, e.RunRef)
	if err != nil {
		return nil, fmt.Errorf("image %q: saving it from the Docker Engine: %w", e.Name, err)
	}
	defer rc.Close()
	p := filepath.Join(tmp, "docker-save.tar")
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("image %q: saving it from the Docker Engine: %w", e.Name, err)
	}
	img, err := tarball.ImageFromPath(p, nil)
	if err != nil {
		return nil, fmt.Errorf("image %q: reading what the Docker Engine saved: %w", e.Name, err)
	}
	return img, nil
}
