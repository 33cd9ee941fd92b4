package models

import (
	"context"
	"crypto/ed25519"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/transfer"
)

// BundleKeyID returns the id (fingerprint) and PKIX PEM of the key that
// signs this server's exports; "" when exports are unsigned.
func (r *Registry) BundleKeyID() (id, pemText string, err error) {
	if r.opts.BundleKey == nil {
		return "", "", nil
	}
	return transfer.KeyID(r.opts.BundleKey.Public().(ed25519.PublicKey))
}

// signer names the trusted key that signed b ("" when unsigned), or
// refuses b when required says it must be signed by a trusted key.
func (r *Registry) signer(ctx context.Context, b transfer.Bundle, required bool) (string, error) {
	if b.Signature == nil {
		if required {
			return "", errdefs.PermissionDenied("the model archive is not signed, and --require-signature asks for a signed one: export it from a server whose key this server trusts (`dockyard models keys trust`)")
		}
		return "", nil
	}
	own, _, err := r.BundleKeyID()
	if err != nil {
		return "", err
	}
	if own != "" && b.Signer == own {
		return "this server (" + own + ")", nil
	}
	if r.opts.TrustedBundleKeys != nil {
		keys, err := r.opts.TrustedBundleKeys(ctx)
		if err != nil {
			return "", err
		}
		for _, k := range keys {
			if k.Fingerprint == b.Signer {
				return k.Name + " (" + k.Fingerprint + ")", nil
			}
		}
	}
	if required {
		return "", errdefs.PermissionDeniedf("the model archive is signed by key %s, which this server does not trust: an administrator trusts the exporting site's key with `dockyard models keys trust NAME --file pub.pem` (that server shows it with `dockyard models keys show`)", b.Signer)
	}
	return "untrusted key " + b.Signer, nil
}
