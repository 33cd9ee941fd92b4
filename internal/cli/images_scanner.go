package cli

import (
	"fmt"
	"strings"

	"github.com/dockyard/dockyard/internal/wire"
)

// noteScan says on standard error what images.scanner_command found at
// an add or update (nothing when no scanner is configured): a failure is
// a warning, since the entry is kept unscanned.
func (env *Env) noteScan(im wire.Image) {
	switch {
	case im.Scan == "":
	case strings.HasPrefix(im.Scan, "failed: "):
		fmt.Fprintf(env.Stderr, "warning: image %s was pinned but not scanned: the scanner %s; import a report with `dockyard images scan import %s --file REPORT.json`, or starts are refused where the policy requires a scan\n",
			im.Name, im.Scan, im.Name)
	default:
		fmt.Fprintf(env.Stderr, "scanned: %s\n", im.Scan)
	}
}
