package transfer

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// DirFiles lists the regular files under dir as version files that open
// lazily. Symbolic links and other special files are skipped, each with a
// message in skipped.
func DirFiles(dir string) (files []File, skipped []string, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			skipped = append(skipped, fmt.Sprintf("skipped %s: symbolic links are not imported; copy the file it points to", rel))
			return nil
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			skipped = append(skipped, fmt.Sprintf("skipped %s: not a regular file", rel))
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		full := p
		files = append(files, File{Path: rel, Size: info.Size(), Open: func() (io.ReadCloser, error) { return os.Open(full) }})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read model directory %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, skipped, errdefs.Invalidf("directory %s holds no regular files to import", dir)
	}
	return files, skipped, nil
}
