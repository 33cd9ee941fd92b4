package signing

import (
	"context"
	"regexp"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Key is a trusted key as stored.
type Key = store.SigningKey

// Keys are the public keys an administrator trusts for one purpose
// (store.KeyPurposeImage, store.KeyPurposeModel), kept in the store.
type Keys struct {
	st      store.SigningStore
	purpose string
	now     func() time.Time
}

// NewKeys returns the trusted keys of purpose kept in st.
func NewKeys(st store.SigningStore, purpose string) *Keys {
	return &Keys{st: st, purpose: purpose, now: time.Now}
}

// Trusted is a trusted key by name.
type Trusted struct {
	Name string
	PublicKey
}

// InTx runs fn in one transaction of the store.
func (k *Keys) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return k.st.InTx(ctx, fn)
}

var keyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Add trusts the public key in pemText under name.
func (k *Keys) Add(ctx context.Context, user, name string, pemText []byte) (store.SigningKey, error) {
	if !keyNameRE.MatchString(name) {
		return store.SigningKey{}, errdefs.Invalidf("key name %q: use 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", name)
	}
	pub, err := ParsePublicKey(pemText)
	if err != nil {
		return store.SigningKey{}, err
	}
	rec := store.SigningKey{Purpose: k.purpose, Name: name, PEM: pub.PEM, Fingerprint: pub.Fingerprint, CreatedBy: user, Created: k.now().UTC()}
	if err := k.st.CreateSigningKey(ctx, rec); errdefs.IsConflict(err) {
		return store.SigningKey{}, errdefs.Conflictf("a %s key called %q is already trusted: remove it first to replace it", k.purpose, name)
	} else if err != nil {
		return store.SigningKey{}, err
	}
	return rec, nil
}

// List returns the trusted keys by name.
func (k *Keys) List(ctx context.Context) ([]store.SigningKey, error) {
	return k.st.ListSigningKeys(ctx, k.purpose)
}

// Remove stops trusting the key called name.
func (k *Keys) Remove(ctx context.Context, name string) (store.SigningKey, error) {
	all, err := k.List(ctx)
	if err != nil {
		return store.SigningKey{}, err
	}
	for _, rec := range all {
		if rec.Name == name {
			return rec, k.st.DeleteSigningKey(ctx, k.purpose, name)
		}
	}
	return store.SigningKey{}, errdefs.NotFoundf("no %s key called %q is trusted: list them with `dockyard %s keys list`", k.purpose, name, k.purpose+"s")
}

// Trusted returns the trusted keys parsed. A stored key that does not
// parse is an error: what verifies must not silently shrink.
func (k *Keys) Trusted(ctx context.Context) ([]Trusted, error) {
	all, err := k.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Trusted, 0, len(all))
	for _, rec := range all {
		pub, err := ParsePublicKey([]byte(rec.PEM))
		if err != nil {
			return nil, errdefs.Unavailablef("the trusted %s key %q does not parse (%w): remove it and add it again", k.purpose, rec.Name, err)
		}
		out = append(out, Trusted{Name: rec.Name, PublicKey: pub})
	}
	return out, nil
}
