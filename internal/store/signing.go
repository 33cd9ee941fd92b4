package store

import (
	"context"
	"time"
)

// Purposes of a SigningKey.
const (
	KeyPurposeImage = "image" // verifies image signatures at a start
	KeyPurposeModel = "model" // verifies model bundles of other sites at an import
)

// SigningKey is a public key an administrator trusts to verify
// signatures: of images (KeyPurposeImage) or of model bundles exported by
// another site (KeyPurposeModel). PEM is the PKIX public key, Fingerprint
// the SHA-256 of its DER ("sha256:...").
type SigningKey struct {
	Purpose     string
	Name        string
	PEM         string
	Fingerprint string
	CreatedBy   string
	Created     time.Time
}

// ImageSignature is a signature of an image stored with a catalogue
// entry, so that a start verifies it without the network: the
// cosign-compatible simple-signing payload (JSON), the base64 signature
// over it, and Digest, the manifest digest the payload names. Manifest is
// that manifest's JSON when the entry pins something else that it names
// (an engine's image id, the manifest's config); Source says where the
// signature came from ("registry", "archive", "sign").
type ImageSignature struct {
	ID        int64
	Image     string
	Digest    string
	Payload   string
	Signature string
	Manifest  string
	Source    string
	AddedBy   string
	Added     time.Time
}

// SigningStore keeps trusted public keys and the signatures of images.
type SigningStore interface {
	Transactor
	// CreateSigningKey inserts k; errdefs.ErrConflict if (Purpose, Name)
	// exists.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns the keys of purpose, by name.
	ListSigningKeys(ctx context.Context, purpose string) ([]SigningKey, error)
	// DeleteSigningKey removes a key; errdefs.ErrNotFound if absent.
	DeleteSigningKey(ctx context.Context, purpose, name string) error
	// AddImageSignature stores s; the same signature of the same image
	// and digest again is kept once.
	AddImageSignature(ctx context.Context, s ImageSignature) error
	// ListImageSignatures returns the signatures of image (all of them
	// when digest is "", else those of digest), oldest first.
	ListImageSignatures(ctx context.Context, image, digest string) ([]ImageSignature, error)
}
