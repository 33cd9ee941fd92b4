package maintenance

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Inspect reads an archive's entries (not verifying blob contents: Restore
// does) and checks that it is complete: a header first, a trailer last,
// and between them what the trailer counts.
func Inspect(r io.Reader) (Header, Trailer, error) {
	var h Header
	var tr, got Trailer
	bad := func(format string, a ...any) error {
		return errdefs.Invalid("not a complete Dockyard backup: " + fmt.Sprintf(format, a...))
	}
	t := tar.NewReader(r)
	first, seenTrailer := true, false
	for {
		hd, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return h, tr, bad("%v", err)
		}
		if seenTrailer {
			return h, tr, bad("entry %q follows %s", hd.Name, TrailerName)
		}
		switch name := hd.Name; {
		case first && name != HeaderName:
			return h, tr, bad("it does not begin with %s", HeaderName)
		case name == HeaderName:
			if err := readJSON(t, &h); err != nil {
				return h, tr, bad("%s: %v", name, err)
			}
		case name == TrailerName:
			if err := readJSON(t, &tr); err != nil {
				return h, tr, bad("%s: %v", name, err)
			}
			seenTrailer = true
		case name == DBName:
			got.DBBytes = hd.Size
		case strings.HasPrefix(name, FilesDir):
			got.Files++
		case strings.HasPrefix(name, BlobsDir):
			got.Blobs++
			got.BlobBytes += hd.Size
		default:
			return h, tr, bad("entry %q is unexpected", name)
		}
		first = false
	}
	switch {
	case first:
		return h, tr, bad("it is empty")
	case !seenTrailer:
		return h, tr, bad("it ends before %s (the backup was cut short)", TrailerName)
	case got != tr:
		return h, tr, bad("it holds %+v but its trailer says %+v", got, tr)
	}
	return h, tr, nil
}
