package maintenance

import (
	"path"
	"strings"
	"time"
)

// The backup archive is a tar file holding, in this order:
//
//	dockyard-backup.json       Header: format, server id, creation time
//	files/<path>               the data dir's keys and state (see Excluded)
//	dockyard.db                a consistent snapshot of the database
//	blobs/sha256/<hex>         every blob the snapshot references
//	dockyard-backup-end.json   Trailer: counts; its absence means the file is cut short
//
// Keys and state are read before the database is snapshotted, so that
// what they vouch for (the audit checkpoints appended outside the
// database) is never ahead of the database.
const (
	HeaderName  = "dockyard-backup.json"
	TrailerName = "dockyard-backup-end.json"
	DBName      = "dockyard.db"
	FilesDir    = "files/"
	BlobsDir    = "blobs/sha256/"
	// Format is the archive format this version writes and reads.
	Format = 1
)

// Excluded are the data dir's top-level entries a backup leaves out: the
// database (backed up as a snapshot), the blob store (backed up blob by
// blob, referenced ones only), temporary files, and the work directories
// of containers (which are thrown away; what they hold that matters is
// synced to the stores).
var Excluded = []string{"dockyard.db", "dockyard.db-wal", "dockyard.db-shm", "dockyard.db-journal", "blobs", "tmp", "containers", "docker"}

// maxFileBytes bounds each key or state file a backup carries; they are
// small (keys, certificates, checkpoints).
const maxFileBytes = 64 << 20

// Header opens an archive.
type Header struct {
	Format   int       `json:"format"`
	ServerID string    `json:"server_id,omitempty"`
	Created  time.Time `json:"created"`
}

// Trailer closes a complete archive.
type Trailer struct {
	Files     int   `json:"files"`
	DBBytes   int64 `json:"db_bytes"`
	Blobs     int   `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
}

// excluded reports whether rel (slash-separated, relative to the data
// dir) is left out of backups.
func excluded(rel string) bool {
	top, _, _ := strings.Cut(rel, "/")
	for _, x := range Excluded {
		if top == x {
			return true
		}
	}
	return false
}

// cleanRel checks that name is a clean relative path that stays inside
// the directory it is restored into.
func cleanRel(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.Contains(name, "\\")
}
