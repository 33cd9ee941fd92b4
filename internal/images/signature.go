package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

// Sources of a stored signature.
const (
	SignatureFromRegistry = "registry" // read from the registry at images add or update
	SignatureFromArchive  = "archive"  // carried by an archive images load read
	SignatureFromSign     = "sign"     // uploaded by images sign
)

// Signature is a signature stored with an entry (the store's record).
type Signature = store.ImageSignature

// Sig is one cosign-compatible signature: the simple-signing payload and
// its base64 signature.
type Sig struct {
	Payload   []byte
	Signature string
}

// SignatureFetcher is a Registry that also reads the signatures cosign
// stores for a manifest (the image tagged sha256-<hex>.sig in the same
// repository).
type SignatureFetcher interface {
	Signatures(ctx context.Context, repo, digest string) ([]Sig, error)
}

// Keys are the public keys image signatures are verified with (nil when
// the catalogue has no signing store).
func (c *Catalogue) Keys() *signing.Keys { return c.keys }

// FetchSignatures reads the signatures of a registry entry's pinned
// digest from its registry, as records to store with SaveSignatures. An
// entry of another source, or a registry that keeps none, has none.
func (c *Catalogue) FetchSignatures(ctx context.Context, user string, e Entry) ([]store.ImageSignature, error) {
	f, ok := c.o.Registry.(SignatureFetcher)
	if !ok || e.Source != SourceRegistry {
		return nil, nil
	}
	repo, _, _ := strings.Cut(e.RunRef, "@")
	sigs, err := f.Signatures(ctx, repo, e.Digest)
	if err != nil {
		return nil, err
	}
	var out []store.ImageSignature
	for _, s := range sigs {
		p, err := signing.ParsePayload(s.Payload)
		if err != nil || p.Critical.Image.DockerManifestDigest != e.Digest {
			continue // another image's, or not one: never verifies, not kept
		}
		out = append(out, store.ImageSignature{Image: e.Name, Digest: e.Digest, Payload: string(s.Payload), Signature: s.Signature,
			Source: SignatureFromRegistry, AddedBy: user, Added: c.o.Now().UTC()})
	}
	return out, nil
}

// SaveSignatures stores signatures (in the transaction of the change that
// brought them).
func (c *Catalogue) SaveSignatures(ctx context.Context, sigs []store.ImageSignature) error {
	if len(sigs) == 0 {
		return nil
	}
	if c.o.Signing == nil {
		return errdefs.Unavailable("image signatures have no store")
	}
	for _, s := range sigs {
		if err := c.o.Signing.AddImageSignature(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// NewSignature checks a signature uploaded for the entry called name (as
// `dockyard images sign` makes it): its payload must name the entry's
// pinned digest. It is not verified here: a start verifies it against the
// keys trusted then. Store it with SaveSignatures.
func (c *Catalogue) NewSignature(ctx context.Context, user, name string, payload []byte, sig string) (store.ImageSignature, error) {
	e, err := c.Get(ctx, name)
	if err != nil {
		return store.ImageSignature{}, err
	}
	if e.Runtime == RuntimeProcess {
		return store.ImageSignature{}, errdefs.Invalidf("image %q is the dockyard executable: it is not signed as an image", name)
	}
	p, err := signing.ParsePayload(payload)
	if err != nil {
		return store.ImageSignature{}, err
	}
	if p.Critical.Image.DockerManifestDigest != e.Digest {
		return store.ImageSignature{}, errdefs.Invalidf("the signature is of %s, but image %q is pinned to %s: sign the pinned digest",
			p.Critical.Image.DockerManifestDigest, name, e.Digest)
	}
	if strings.TrimSpace(sig) == "" {
		return store.ImageSignature{}, errdefs.Invalid("the signature is empty")
	}
	return store.ImageSignature{Image: name, Digest: e.Digest, Payload: string(payload), Signature: sig, Source: SignatureFromSign,
		AddedBy: user, Added: c.o.Now().UTC()}, nil
}

// binds reports whether the signature s is of the content e pins: its
// digest is the pinned one, or s carries the manifest it signs and e pins
// that manifest's config (the Docker Engine's image id of an image loaded
// from an archive), which names every layer by its digest.
func binds(s store.ImageSignature, e Entry) bool {
	if s.Digest == e.Digest {
		return true
	}
	if s.Manifest == "" {
		return false
	}
	if digestOf([]byte(s.Manifest)) != s.Digest {
		return false
	}
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	return json.Unmarshal([]byte(s.Manifest), &m) == nil && m.Config.Digest == e.Digest
}

// Signatures returns how many stored signatures name e's pinned content
// (whether a trusted key made them is the policy's question, at a start).
func (c *Catalogue) Signatures(ctx context.Context, e Entry) (int, error) {
	if c.o.Signing == nil {
		return 0, nil
	}
	sigs, err := c.o.Signing.ListImageSignatures(ctx, e.Name, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range sigs {
		if binds(s, e) {
			n++
		}
	}
	return n, nil
}

// signatureGate verifies, offline, that e's pinned content is signed by a
// trusted key: a refusal names the digest and what is missing.
func (c *Catalogue) signatureGate(ctx context.Context, e Entry) (string, error) {
	if c.keys == nil {
		return "", refuse(e, "image signatures cannot be read on this server")
	}
	keys, err := c.keys.Trusted(ctx)
	if err != nil {
		return "", refuse(e, err.Error())
	}
	if len(keys) == 0 {
		return "", refuse(e, "the policy requires a signature but no image signing key is trusted: an administrator adds one with `dockyard images keys add NAME --file pub.pem`")
	}
	sigs, err := c.o.Signing.ListImageSignatures(ctx, e.Name, "")
	if err != nil {
		return "", refuse(e, fmt.Sprintf("its signatures cannot be read: %v", err))
	}
	n := 0
	for _, s := range sigs {
		if !binds(s, e) {
			continue
		}
		n++
		p, err := signing.ParsePayload([]byte(s.Payload))
		if err != nil || p.Critical.Image.DockerManifestDigest != s.Digest {
			continue
		}
		for _, k := range keys {
			if signing.VerifyPayload(k.Key, []byte(s.Payload), s.Signature) == nil {
				return fmt.Sprintf("signed by %s (%s)", k.Name, k.Fingerprint), nil
			}
		}
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	if n == 0 {
		return "", refuse(e, fmt.Sprintf("it has no signature of its pinned digest (images.policy require-signature): sign it (`cosign sign --key cosign.key %s` then `dockyard images update %s`, or `dockyard images sign %s --key key.pem`)",
			e.RunRef, e.Name, e.Name))
	}
	return "", refuse(e, fmt.Sprintf("none of its %d signatures verifies with a trusted key (%s): sign it with a trusted key, or trust the signer's public key with `dockyard images keys add NAME --file pub.pem`",
		n, strings.Join(names, ", ")))
}

// digestOf is the sha256 digest of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
