package store

import (
	"context"
	"time"
)

// Image is an entry of the image catalogue: a name containers start from,
// the reference an administrator gave (Ref), the digest it resolved to
// when added or last re-pinned (Digest) and what the runtime is given to
// run exactly that content (RunRef: repo@sha256:... for a registry image,
// the image id for one local to the engine). Source says where the digest
// came from ("registry", "engine", "executable").
type Image struct {
	Name      string
	Ref       string
	Digest    string
	RunRef    string
	Source    string
	Title     string
	GPU       bool
	Runtime   string
	CreatedBy string
	Created   time.Time
	UpdatedBy string
	Updated   time.Time

	// Cert names the operator certificate pair (containers.certs_dir)
	// agents started from the entry serve; "" for one the server CA issues.
	Cert string
}

// ImageStore keeps the image catalogue.
type ImageStore interface {
	Transactor
	// CreateImage inserts im; errdefs.ErrConflict if the name exists.
	CreateImage(ctx context.Context, im Image) error
	// GetImage returns the entry called name, or errdefs.ErrNotFound.
	GetImage(ctx context.Context, name string) (Image, error)
	// ListImages returns every entry, sorted by name.
	ListImages(ctx context.Context) ([]Image, error)
	// UpdateImage replaces every field of the entry im.Name but its
	// creation; errdefs.ErrNotFound if absent.
	UpdateImage(ctx context.Context, im Image) error
	// DeleteImage removes the entry with its scan reports, CVE exceptions
	// and signatures (a name added again starts with none);
	// errdefs.ErrNotFound if absent.
	DeleteImage(ctx context.Context, name string) error
}

// Registry is a private registry: the CA that verifies it (PEM; empty for
// the system's roots) and the credentials to use there, the password
// sealed (internal/secrets), never in clear.
type Registry struct {
	Host           string
	CAPEM          string
	Username       string
	PasswordSealed string
	CreatedBy      string
	Created        time.Time
	UpdatedBy      string
	Updated        time.Time
}

// RegistryStore keeps the private registries.
type RegistryStore interface {
	Transactor
	// CreateRegistry inserts r; errdefs.ErrConflict if the host exists.
	CreateRegistry(ctx context.Context, r Registry) error
	// GetRegistry returns the registry of host, or errdefs.ErrNotFound.
	GetRegistry(ctx context.Context, host string) (Registry, error)
	// ListRegistries returns every registry, sorted by host.
	ListRegistries(ctx context.Context) ([]Registry, error)
	// UpdateRegistry replaces every field of r.Host but its creation;
	// errdefs.ErrNotFound if absent.
	UpdateRegistry(ctx context.Context, r Registry) error
	// DeleteRegistry removes the registry; errdefs.ErrNotFound if absent.
	DeleteRegistry(ctx context.Context, host string) error
}

// ImageScan is a vulnerability scan report imported for a catalogue
// entry, bound to the digest the entry was pinned to. Findings is the
// JSON array of findings as the images service encodes it.
type ImageScan struct {
	ID         int64
	Image      string
	Digest     string
	Format     string
	Scanned    time.Time
	Findings   string
	ImportedBy string
	Imported   time.Time
}

// ImageException lets a CVE of an image pass the policy until a time.
type ImageException struct {
	Image     string
	CVE       string
	Until     time.Time
	Reason    string
	CreatedBy string
	Created   time.Time
}

// ImageScanStore keeps scan reports and policy exceptions.
type ImageScanStore interface {
	Transactor
	// AddImageScan stores a scan report and returns its id.
	AddImageScan(ctx context.Context, s ImageScan) (int64, error)
	// LatestImageScan returns the newest scan (by Scanned, then id) of
	// image at digest, or errdefs.ErrNotFound.
	LatestImageScan(ctx context.Context, image, digest string) (ImageScan, error)
	// PutImageException adds or replaces the exception for (Image, CVE).
	PutImageException(ctx context.Context, e ImageException) error
	// ListImageExceptions returns the exceptions of image, by CVE.
	ListImageExceptions(ctx context.Context, image string) ([]ImageException, error)
	// DeleteImageException removes the exception for (image, cve);
	// errdefs.ErrNotFound if absent.
	DeleteImageException(ctx context.Context, image, cve string) error
}
