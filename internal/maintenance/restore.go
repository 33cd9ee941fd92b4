package maintenance

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/blob"
	blobfs "github.com/dockyard/dockyard/internal/blob/fs"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// RestoreResult says what a restore put in place.
type RestoreResult struct {
	Header   Header  `json:"header"`
	Trailer  Trailer `json:"trailer"`
	DataDir  string  `json:"data_dir"`
	Replaced string  `json:"replaced,omitempty"` // where --force moved the directory's previous contents
}

// Restore unpacks a backup archive into dataDir, offline (no server may
// use dataDir meanwhile). It unpacks into a new directory beside dataDir,
// verifies every blob against its digest, checks the database's integrity
// and that every blob it references is there, and only then puts the
// directory in place. dataDir must be absent or empty unless force, in
// which case its contents are moved aside (the result says where), not
// deleted. On any failure dataDir is left as it was. files opens the
// archive's database (the store implementation that wrote it).
func Restore(ctx context.Context, files store.Files, r io.Reader, dataDir string, force bool) (RestoreResult, error) {
	res := RestoreResult{DataDir: dataDir}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return res, fmt.Errorf("restore: %w", err)
	case len(entries) > 0 && !force:
		return res, errdefs.Invalidf("restore: %s is not empty; restore into a new directory, "+
			"or pass --force to move what is there aside (stop the server using it first)", dataDir)
	case blobfs.InUse(filepath.Join(abs, "blobs")):
		return res, errdefs.Conflictf("restore: a running server is using %s; stop it first", dataDir)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	stage, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".restoring-")
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	if res.Header, res.Trailer, err = unpack(ctx, r, stage); err != nil {
		return res, err
	}
	if err := checkRestored(ctx, files, stage); err != nil {
		return res, err
	}
	if len(entries) > 0 {
		res.Replaced = fmt.Sprintf("%s.replaced-%s", abs, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(abs, res.Replaced); err != nil {
			return res, fmt.Errorf("restore: move %s aside: %w", dataDir, err)
		}
	} else {
		os.Remove(abs) // empty or absent: make way for the rename
	}
	if err := os.Rename(stage, abs); err != nil {
		return res, fmt.Errorf("restore: put the restored directory in place at %s: %w", dataDir, err)
	}
	return res, nil
}

// unpack reads the archive into dir.
func unpack(ctx context.Context, r io.Reader, dir string) (Header, Trailer, error) {
	var h Header
	var tr Trailer
	bad := func(format string, a ...any) error {
		return errdefs.Invalid("restore: the file is not a complete Dockyard backup: " + fmt.Sprintf(format, a...) +
			"; nothing was restored (write a new one with `dockyard admin backup --file F`)")
	}
	bs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		return h, tr, err
	}
	defer bs.Close()
	var got Trailer
	seenHeader, seenTrailer, seenDB := false, false, false
	t := tar.NewReader(r)
	for {
		hd, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return h, tr, bad("%v", err)
		}
		if err := ctx.Err(); err != nil {
			return h, tr, err
		}
		if seenTrailer {
			return h, tr, bad("entry %q follows %s", hd.Name, TrailerName)
		}
		if !seenHeader && hd.Name != HeaderName {
			return h, tr, bad("it does not begin with %s", HeaderName)
		}
		if hd.Typeflag != tar.TypeReg {
			return h, tr, bad("entry %q is not a regular file", hd.Name)
		}
		switch name := hd.Name; {
		case name == HeaderName:
			if err := readJSON(t, &h); err != nil {
				return h, tr, bad("%s: %v", name, err)
			}
			if h.Format != Format {
				return h, tr, errdefs.Invalidf("restore: the backup has format %d; this version reads format %d", h.Format, Format)
			}
			seenHeader = true
		case name == TrailerName:
			if err := readJSON(t, &tr); err != nil {
				return h, tr, bad("%s: %v", name, err)
			}
			seenTrailer = true
		case name == DBName:
			n, err := copyTo(t, filepath.Join(dir, DBName))
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return h, tr, bad("it ends inside %s (the backup was cut short)", name)
			}
			if err != nil {
				return h, tr, err
			}
			got.DBBytes, seenDB = n, true
		case strings.HasPrefix(name, FilesDir):
			rel := strings.TrimPrefix(name, FilesDir)
			if !cleanRel(rel) || excluded(rel) {
				return h, tr, bad("entry %q is not a file a backup holds", name)
			}
			dst := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return h, tr, fmt.Errorf("restore: %w", err)
			}
			if _, err := copyTo(t, dst); errors.Is(err, io.ErrUnexpectedEOF) {
				return h, tr, bad("it ends inside %s (the backup was cut short)", name)
			} else if err != nil {
				return h, tr, err
			}
			got.Files++
		case strings.HasPrefix(name, BlobsDir):
			d, err := blob.ParseDigest("sha256:" + strings.TrimPrefix(name, BlobsDir))
			if err != nil {
				return h, tr, bad("entry %q: %v", name, err)
			}
			n, err := bs.PutVerified(ctx, d, t)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return h, tr, bad("it ends inside %s (the backup was cut short)", name)
			}
			if err != nil {
				return h, tr, fmt.Errorf("restore: blob %s in the backup: %w", d, err)
			}
			got.Blobs++
			got.BlobBytes += n
		default:
			return h, tr, bad("entry %q is unexpected", name)
		}
	}
	switch {
	case !seenHeader:
		return h, tr, bad("it is empty")
	case !seenTrailer:
		return h, tr, bad("it ends before %s (the backup was cut short)", TrailerName)
	case !seenDB:
		return h, tr, bad("it holds no %s", DBName)
	case got != tr:
		return h, tr, bad("it holds %+v but its trailer says %+v", got, tr)
	}
	return h, tr, nil
}

// checkRestored checks the restored database's integrity and that every
// blob it references was restored.
func checkRestored(ctx context.Context, files store.Files, dir string) error {
	path := filepath.Join(dir, DBName)
	if err := files.Check(ctx, path); err != nil {
		return fmt.Errorf("restore: the database in the backup is damaged: %w", err)
	}
	db, err := files.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	bs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		return err
	}
	defer bs.Close()
	_, missing, err := (&Service{Store: db, Blobs: bs}).mark(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if missing > 0 {
		return errdefs.Invalidf("restore: %d blobs the database references are not in the backup; nothing was restored", missing)
	}
	return nil
}

func readJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// copyTo writes r to a new owner-only file at p and syncs it.
func copyTo(r io.Reader, p string) (int64, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("restore: %w", err)
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("restore: write %s: %w", p, err)
	}
	return n, nil
}
