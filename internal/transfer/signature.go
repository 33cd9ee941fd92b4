package transfer

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// SignatureName is the entry of a signed model archive (a bundle) that
// holds its Signature.
const SignatureName = "signature.json"

// SignatureAlgorithm is the only algorithm of bundle signatures.
const SignatureAlgorithm = "ed25519"

// Signature signs a model archive: the exporting server's Ed25519 key
// over SignedMessage of the manifest's digest (which names every file by
// its digest) and the digest of metadata.json as archived (the model,
// version, params, fit info and lineage). PublicKey (PKIX PEM) and KeyID
// (its fingerprint) say who signed; the importer decides whether it
// trusts that key.
type Signature struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	Manifest  Digest `json:"manifest"`
	Metadata  Digest `json:"metadata"`
	Signature string `json:"signature"`
}

// SignedMessage is what a bundle signature signs.
func SignedMessage(manifest, metadata Digest) []byte {
	return []byte("dockyard model bundle v1\nmanifest " + string(manifest) + "\nmetadata " + string(metadata) + "\n")
}

// KeyID is the fingerprint of an Ed25519 public key: "sha256:" and the
// hex of the SHA-256 of its PKIX DER.
func KeyID(pub ed25519.PublicKey) (string, string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// Sign returns the signature of an archive whose manifest and
// metadata.json have these digests.
func Sign(key ed25519.PrivateKey, manifest, metadata Digest) (Signature, error) {
	id, pemText, err := KeyID(key.Public().(ed25519.PublicKey))
	if err != nil {
		return Signature{}, err
	}
	sig := ed25519.Sign(key, SignedMessage(manifest, metadata))
	return Signature{Algorithm: SignatureAlgorithm, KeyID: id, PublicKey: pemText, Manifest: manifest, Metadata: metadata,
		Signature: base64.StdEncoding.EncodeToString(sig)}, nil
}

// Verify checks s against the archive's digests and its own public key,
// and returns that key's id: the caller then decides whether it trusts
// the key. A signature that does not verify, or that is of other digests,
// is an errdefs.ErrInvalid error: the archive was changed.
func (s Signature) Verify(manifest, metadata Digest) (string, error) {
	if s.Algorithm != SignatureAlgorithm {
		return "", errdefs.Invalidf("model archive: %s uses algorithm %q; this server verifies %s", SignatureName, s.Algorithm, SignatureAlgorithm)
	}
	if s.Manifest != manifest || s.Metadata != metadata {
		return "", errdefs.Invalidf("model archive: %s signs other content than the archive holds (manifest %s, metadata %s): the archive was changed after it was signed",
			SignatureName, manifest, metadata)
	}
	b, _ := pem.Decode([]byte(s.PublicKey))
	if b == nil {
		return "", errdefs.Invalidf("model archive: %s holds no PEM public key", SignatureName)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	pub, ok := k.(ed25519.PublicKey)
	if err != nil || !ok {
		return "", errdefs.Invalidf("model archive: %s holds no Ed25519 public key", SignatureName)
	}
	id, _, err := KeyID(pub)
	if err != nil || id != s.KeyID {
		return "", errdefs.Invalidf("model archive: %s names key %s, but its public key is %s", SignatureName, s.KeyID, id)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(pub, SignedMessage(manifest, metadata), sig) {
		return "", errdefs.Invalidf("model archive: its signature by %s does not verify: the archive was changed after it was signed", s.KeyID)
	}
	return id, nil
}

// WriteSignature writes signature.json: the signature of what WriteMeta
// wrote, made by key.
func (w *Writer) WriteSignature(key ed25519.PrivateKey) error {
	if w.manifest == "" {
		return fmt.Errorf("model archive: sign after WriteMeta")
	}
	s, err := Sign(key, w.manifest, w.metadata)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := w.header(SignatureName, int64(len(b))); err != nil {
		return err
	}
	_, err = w.tw.Write(b)
	return err
}
