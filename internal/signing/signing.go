// Package signing holds the public-key signatures Dockyard verifies
// offline: keys in PEM (PKIX public keys; PKCS #8, SEC 1 EC or PKCS #1
// private keys), their fingerprints, and signatures with ECDSA (SHA-256,
// ASN.1, as cosign writes them), Ed25519 or RSA (PKCS #1 v1.5, SHA-256).
// It also writes and reads cosign's "simple signing" payload, which an
// image signature signs. It depends on the standard library and errdefs
// only, so the CLI signs with it without the server's code.
package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// PublicKey is a parsed public key with its fingerprint.
type PublicKey struct {
	Key         crypto.PublicKey
	Fingerprint string // "sha256:" + hex of the SHA-256 of its PKIX DER
	PEM         string // the key as PKIX PEM
}

// ParsePublicKey reads the first PUBLIC KEY block of pemText (cosign's
// cosign.pub, `openssl ec -pubout`, `openssl pkey -pubout`).
func ParsePublicKey(pemText []byte) (PublicKey, error) {
	rest := pemText
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return PublicKey{}, errdefs.Invalid("the key file holds no PEM public key (-----BEGIN PUBLIC KEY-----): give the public key, e.g. cosign.pub or the output of `openssl pkey -in key.pem -pubout`")
		}
		if b.Type != "PUBLIC KEY" {
			if b.Type == "PRIVATE KEY" || b.Type == "EC PRIVATE KEY" || b.Type == "RSA PRIVATE KEY" || b.Type == "ENCRYPTED SIGSTORE PRIVATE KEY" {
				return PublicKey{}, errdefs.Invalid("the key file holds a private key: give only the public key (`openssl pkey -in key.pem -pubout`, or cosign.pub)")
			}
			continue
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return PublicKey{}, errdefs.Invalidf("the public key does not parse (%w): give a PKIX public key in PEM", err)
		}
		return NewPublicKey(k)
	}
}

// NewPublicKey returns k with its fingerprint and PEM; only ECDSA,
// Ed25519 and RSA (2048 bits or more) keys are accepted.
func NewPublicKey(k crypto.PublicKey) (PublicKey, error) {
	switch k := k.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return PublicKey{}, errdefs.Invalidf("an RSA key of %d bits is too weak: use ECDSA P-256, Ed25519 or RSA of 2048 bits or more", k.N.BitLen())
		}
	default:
		return PublicKey{}, errdefs.Invalidf("a %T key is not one Dockyard verifies with: use ECDSA P-256, Ed25519 or RSA", k)
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return PublicKey{}, errdefs.Invalidf("the public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return PublicKey{Key: k, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]),
		PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}, nil
}

// ParsePrivateKey reads a private key in PEM: PKCS #8 (`openssl genpkey`),
// SEC 1 EC (`openssl ecparam -genkey`) or PKCS #1 RSA. Encrypted keys
// (cosign's own format) are refused, saying how to convert them.
func ParsePrivateKey(pemText []byte) (crypto.Signer, error) {
	rest := pemText
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errdefs.Invalid("the key file holds no PEM private key: create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem`")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return nil, errdefs.Invalid("the private key is encrypted: sign with cosign itself (`cosign sign --key cosign.key IMAGE@DIGEST`, then `dockyard images update NAME`), or give an unencrypted PKCS #8 key")
		default:
			continue
		}
		if err != nil {
			return nil, errdefs.Invalidf("the private key does not parse: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errdefs.Invalidf("a %T key cannot sign", k)
		}
		if _, err := NewPublicKey(s.Public()); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Sign signs msg with key: ECDSA and RSA over its SHA-256, Ed25519 over
// msg itself. It returns the raw signature (ASN.1 for ECDSA).
func Sign(key crypto.Signer, msg []byte) ([]byte, error) {
	if _, ok := key.(ed25519.PrivateKey); ok {
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	sum := sha256.Sum256(msg)
	return key.Sign(rand.Reader, sum[:], crypto.SHA256)
}

// ErrBadSignature is a signature that does not verify with the key.
var ErrBadSignature = errors.New("the signature does not verify with the key")

// Verify checks sig over msg with pub (as Sign makes it).
func Verify(pub crypto.PublicKey, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	ok := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, sum[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	default:
		return fmt.Errorf("a %T key cannot verify", pub)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// Payload types.
const (
	// SimpleSigningType is the type of a cosign image signature payload.
	SimpleSigningType = "cosign container image signature"
	// SimpleSigningMediaType is the media type of the layer that holds
	// the payload in a signature image.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds the base64 signature on that layer.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
)

// SimpleSigning is cosign's payload: the image reference and the manifest
// digest it signs.
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// NewPayload returns the payload that signs the manifest digest of the
// image in repository repo (HOST/REPO, without tag or digest).
func NewPayload(repo, digest string) ([]byte, error) {
	if !digestRE.MatchString(digest) {
		return nil, errdefs.Invalidf("digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	var p SimpleSigning
	p.Critical.Identity.DockerReference = repo
	p.Critical.Image.DockerManifestDigest = digest
	p.Critical.Type = SimpleSigningType
	return json.Marshal(p)
}

// ParsePayload reads a simple-signing payload and checks its type and
// digest.
func ParsePayload(b []byte) (SimpleSigning, error) {
	var p SimpleSigning
	if err := json.Unmarshal(b, &p); err != nil {
		return p, errdefs.Invalidf("the signature payload is not JSON: %w", err)
	}
	if p.Critical.Type != SimpleSigningType {
		return p, errdefs.Invalidf("the signature payload's type is %q, not %q", p.Critical.Type, SimpleSigningType)
	}
	if !digestRE.MatchString(p.Critical.Image.DockerManifestDigest) {
		return p, errdefs.Invalidf("the signature payload names no manifest digest (%q)", p.Critical.Image.DockerManifestDigest)
	}
	return p, nil
}

// SignPayload signs payload with key and returns the signature in base64,
// as cosign's annotation carries it.
func SignPayload(key crypto.Signer, payload []byte) (string, error) {
	sig, err := Sign(key, payload)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyPayload checks a base64 signature of payload with pub.
func VerifyPayload(pub crypto.PublicKey, payload []byte, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("the signature is not base64: %w", err)
	}
	return Verify(pub, payload, sig)
}
