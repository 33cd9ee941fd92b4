package store

import "context"

// BlobRefs are the blob digests the metadata store references. Manifests
// are blobs that list further blobs (a model version's files); garbage
// collection reads them to find those.
type BlobRefs struct {
	Direct    []string // contents referenced as they are (lookups, notebook versions)
	Manifests []string // model version manifests (models.Manifest JSON)
}

// BlobRefStore reports every blob the store references.
type BlobRefStore interface {
	// BlobReferences returns every digest referenced by any row, each once,
	// read in one transaction.
	BlobReferences(ctx context.Context) (BlobRefs, error)
}
