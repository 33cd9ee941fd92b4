package wire

import "time"

// SigningKey is a trusted public key (of images, or of other sites' model
// bundles).
type SigningKey struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	PEM         string    `json:"pem"`
	CreatedBy   string    `json:"created_by,omitempty"`
	Created     time.Time `json:"created,omitempty"`
}

// SigningKeyAdd trusts a public key (PEM) under a name.
type SigningKeyAdd struct {
	Name string `json:"name"`
	PEM  string `json:"pem"`
}

// ImageSignatureAdd uploads a cosign-compatible signature of an image: the
// simple-signing payload (JSON) and its base64 signature.
type ImageSignatureAdd struct {
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// ImageSignature is a signature stored with a catalogue entry.
type ImageSignature struct {
	Image   string    `json:"image"`
	Digest  string    `json:"digest"`
	Source  string    `json:"source"`
	AddedBy string    `json:"added_by,omitempty"`
	Added   time.Time `json:"added,omitempty"`
}
