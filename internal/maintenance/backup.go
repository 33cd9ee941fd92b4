package maintenance

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
	"github.com/dockyard/dockyard/internal/store"
)

// BackupSource is what Backup reads: the live database, how to open the
// snapshot it writes, the data dir holding the keys, and the server's id
// for the header.
type BackupSource struct {
	DB       store.Snapshotter
	Files    store.Files // of DB's implementation
	DataDir  string
	ServerID string
}

// Backup writes an archive of the running server to w: keys and state
// files, a snapshot of the database, then every blob the snapshot
// references, then a trailer. Garbage collection waits meanwhile, so no
// blob the snapshot references disappears before it is copied.
func (s *Service) Backup(ctx context.Context, src BackupSource, w io.Writer) (Trailer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var tr Trailer
	files, err := readStateFiles(src.DataDir)
	if err != nil {
		return tr, err
	}
	tmpDir, err := os.MkdirTemp(filepath.Join(src.DataDir, "tmp"), "backup-")
	if err != nil {
		return tr, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, DBName)
	if err := src.DB.Snapshot(ctx, snap); err != nil {
		return tr, fmt.Errorf("backup: %w", err)
	}
	refs, err := snapshotRefs(ctx, src.Files, snap, s.Blobs)
	if err != nil {
		return tr, err
	}

	tw := tar.NewWriter(w)
	if err := writeJSON(tw, HeaderName, Header{Format: Format, ServerID: src.ServerID, Created: s.now().UTC()}); err != nil {
		return tr, err
	}
	for _, f := range files {
		if err := writeBytes(tw, FilesDir+f.rel, f.mode, f.data); err != nil {
			return tr, err
		}
		tr.Files++
	}
	if tr.DBBytes, err = writeFile(tw, DBName, snap); err != nil {
		return tr, err
	}
	for _, d := range refs {
		n, err := s.writeBlob(ctx, tw, d)
		if err != nil {
			return tr, err
		}
		tr.Blobs++
		tr.BlobBytes += n
	}
	if err := writeJSON(tw, TrailerName, tr); err != nil {
		return tr, err
	}
	if err := tw.Close(); err != nil {
		return tr, fmt.Errorf("backup: %w", err)
	}
	return tr, nil
}

// snapshotRefs opens the snapshot and lists, sorted, every blob it
// references (manifests expanded). A referenced blob that is missing from
// the store fails the backup: the archive could not be restored whole.
func snapshotRefs(ctx context.Context, files store.Files, snap string, blobs blob.Store) ([]blob.Digest, error) {
	db, err := files.Open(ctx, snap)
	if err != nil {
		return nil, fmt.Errorf("backup: open the snapshot: %w", err)
	}
	defer db.Close()
	m := &Service{Store: db, Blobs: blobs}
	live, missing, err := m.mark(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if missing > 0 {
		return nil, fmt.Errorf("backup: %d blobs the database references are missing from the blob store; "+
			"`dockyard admin gc` logs them, restore them from an older backup", missing)
	}
	out := make([]blob.Digest, 0, len(live))
	for d := range live {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

type stateFile struct {
	rel  string
	mode int64
	data []byte
}

// readStateFiles reads every regular file of the data dir that backups
// carry (keys, certificates, checkpoints), sorted by path.
func readStateFiles(dataDir string) ([]stateFile, error) {
	var files []stateFile
	err := filepath.WalkDir(dataDir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxFileBytes {
			return fmt.Errorf("backup: %s is larger than %d bytes; only keys and small state files belong in the data directory besides %v",
				p, maxFileBytes, Excluded)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, stateFile{rel: rel, mode: int64(info.Mode().Perm()), data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backup: read the data directory: %w", err)
	}
	return files, nil
}

func writeJSON(tw *tar.Writer, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeBytes(tw, name, 0o600, append(b, '\n'))
}

func writeBytes(tw *tar.Writer, name string, mode int64, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(b)), ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

func writeFile(tw *tar.Writer, name, p string) (int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return 0, fmt.Errorf("backup: %s: %w", name, err)
	}
	n, err := io.Copy(tw, f)
	if err != nil {
		return n, fmt.Errorf("backup: %s: %w", name, err)
	}
	return n, nil
}

// writeBlob copies one blob, verified as it is read, into the archive.
func (s *Service) writeBlob(ctx context.Context, tw *tar.Writer, d blob.Digest) (int64, error) {
	size, err := s.Blobs.Stat(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	rc, err := s.Blobs.Open(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer rc.Close()
	name := BlobsDir + d.Hex()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: time.Now(), Typeflag: tar.TypeReg}); err != nil {
		return 0, fmt.Errorf("backup: %s: %w", name, err)
	}
	n, err := io.Copy(tw, rc)
	if err != nil {
		if errors.Is(err, blob.ErrCorrupt) {
			return n, fmt.Errorf("backup stopped: %w", err)
		}
		return n, fmt.Errorf("backup: %s: %w", name, err)
	}
	return n, nil
}
