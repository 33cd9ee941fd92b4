package images

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/runtime"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// RegistryRecord is a private registry as the service's callers see it
// (the store's record; the password is sealed and never leaves the
// service).
type RegistryRecord = store.Registry

// RegistryInfo is a registry as listed: never its password.
type RegistryInfo struct {
	Host      string
	HasCA     bool
	Username  string // "" when no credentials are stored
	CreatedBy string
	Created   time.Time
	UpdatedBy string
	Updated   time.Time
}

// Info is what may be shown of r.
func Info(r RegistryRecord) RegistryInfo {
	return RegistryInfo{Host: r.Host, HasCA: r.CAPEM != "", Username: r.Username, CreatedBy: r.CreatedBy, Created: r.Created,
		UpdatedBy: r.UpdatedBy, Updated: r.Updated}
}

// Registries keeps the private registries the catalogue reads digests
// from and the Docker Engine pulls from: each host's CA and credentials,
// the password sealed at rest.
type Registries struct {
	st  store.RegistryStore
	box *secrets.Box
	now func() time.Time
}

// NewRegistries returns the registries kept in st, with passwords sealed
// by box (nil refuses logins).
func NewRegistries(st store.RegistryStore, box *secrets.Box) *Registries {
	return &Registries{st: st, box: box, now: time.Now}
}

// InTx runs fn in one transaction of the store.
func (r *Registries) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return r.st.InTx(ctx, fn)
}

// sealPurpose binds a sealed registry password to its host.
func sealPurpose(host string) string { return "registry-password:" + host }

var hostRE = regexp.MustCompile(`^(localhost|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?$`)

// CheckHost checks a registry host: HOST[:PORT], without a scheme or path.
func CheckHost(host string) error {
	if !hostRE.MatchString(host) {
		return errdefs.Invalidf("registry host %q: write HOST or HOST:PORT as in image references (registry.example.com, 127.0.0.1:5000), without https:// or a path", host)
	}
	return nil
}

// CheckCA checks a CA bundle: PEM holding at least one certificate.
func CheckCA(caPEM string) error {
	rest, n := []byte(caPEM), 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return errdefs.Invalidf("the CA file holds a certificate that does not parse (%w): give the registry's CA certificate in PEM", err)
		}
		n++
	}
	if n == 0 {
		return errdefs.Invalid("the CA file holds no PEM certificate: give the registry's CA certificate in PEM (-----BEGIN CERTIFICATE-----)")
	}
	return nil
}

// Add records the registry host with the CA that verifies it ("" for the
// system's roots).
func (r *Registries) Add(ctx context.Context, user, host, caPEM string) (RegistryRecord, error) {
	if err := CheckHost(host); err != nil {
		return RegistryRecord{}, err
	}
	if caPEM != "" {
		if err := CheckCA(caPEM); err != nil {
			return RegistryRecord{}, err
		}
	}
	now := r.now().UTC()
	rec := RegistryRecord{Host: host, CAPEM: caPEM, CreatedBy: user, Created: now, UpdatedBy: user, Updated: now}
	if err := r.st.CreateRegistry(ctx, rec); errdefs.IsConflict(err) {
		return RegistryRecord{}, errdefs.Conflictf("registry %s is already added: remove it first (`dockyard registries remove %s`) to change its CA", host, host)
	} else if err != nil {
		return RegistryRecord{}, err
	}
	return rec, nil
}

// Login stores the credentials for host (added before), the password
// sealed.
func (r *Registries) Login(ctx context.Context, user, host, username, password string) (RegistryRecord, error) {
	if username == "" || password == "" {
		return RegistryRecord{}, errdefs.Invalid("registries login needs a user name (--user) and a password (--password-stdin)")
	}
	if r.box == nil {
		return RegistryRecord{}, errdefs.Unavailable("this server has no key to seal registry passwords with")
	}
	rec, err := r.Get(ctx, host)
	if err != nil {
		return RegistryRecord{}, err
	}
	sealed, err := r.box.Seal(password, sealPurpose(host))
	if err != nil {
		return RegistryRecord{}, err
	}
	rec.Username, rec.PasswordSealed, rec.UpdatedBy, rec.Updated = username, sealed, user, r.now().UTC()
	if err := r.st.UpdateRegistry(ctx, rec); err != nil {
		return RegistryRecord{}, err
	}
	return rec, nil
}

// Get returns the registry of host, or an errdefs.ErrNotFound error that
// says how to add it.
func (r *Registries) Get(ctx context.Context, host string) (RegistryRecord, error) {
	rec, err := r.st.GetRegistry(ctx, host)
	if errdefs.IsNotFound(err) {
		return RegistryRecord{}, errdefs.NotFoundf("registry %s is not added: add it with `dockyard registries add %s [--ca-file CA.pem]`", host, host)
	}
	return rec, err
}

// List returns every registry, without passwords.
func (r *Registries) List(ctx context.Context) ([]RegistryInfo, error) {
	all, err := r.st.ListRegistries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RegistryInfo, 0, len(all))
	for _, rec := range all {
		out = append(out, Info(rec))
	}
	return out, nil
}

// Remove forgets the registry of host with its credentials.
func (r *Registries) Remove(ctx context.Context, host string) (RegistryRecord, error) {
	rec, err := r.Get(ctx, host)
	if err != nil {
		return RegistryRecord{}, err
	}
	if err := r.st.DeleteRegistry(ctx, host); err != nil {
		return RegistryRecord{}, err
	}
	return rec, nil
}

// Auth returns the credentials stored for host, or nil when there are
// none (or the host is not added).
func (r *Registries) Auth(ctx context.Context, host string) (*runtime.RegistryAuth, error) {
	rec, err := r.st.GetRegistry(ctx, host)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Username == "" {
		return nil, nil
	}
	if r.box == nil {
		return nil, errdefs.Unavailablef("registry %s: this server has no key to open its stored password with", host)
	}
	pw, err := r.box.Open(rec.PasswordSealed, sealPurpose(host))
	if err != nil {
		return nil, fmt.Errorf("registry %s: opening its stored password (log in again with `dockyard registries login %s`): %w", host, host, err)
	}
	return &runtime.RegistryAuth{Server: host, Username: rec.Username, Password: pw}, nil
}

// Options is a HostOptions: the credentials and CA of host for
// go-containerregistry (anonymous with the system's roots for a host not
// added).
func (r *Registries) Options(ctx context.Context, host string) ([]remote.Option, error) {
	rec, err := r.st.GetRegistry(ctx, host)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var opts []remote.Option
	if rec.CAPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(rec.CAPEM)) {
			return nil, errdefs.Invalidf("registry %s: its stored CA holds no certificate: remove and add it again with --ca-file", host)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, remote.WithTransport(tr))
	}
	a, err := r.Auth(ctx, host)
	if err != nil {
		return nil, err
	}
	if a != nil {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password}))
	}
	return opts, nil
}
