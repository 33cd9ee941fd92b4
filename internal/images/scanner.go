package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Scanner runs a scanner installed on the server's host on an entry's
// pinned image at images add and update (images.scanner_command), and
// reads what it prints as a scan report. Nothing is downloaded: the
// scanner and its database are the operator's.
type Scanner struct {
	// Command is the scanner's command line: whitespace-separated
	// arguments (no shell, no quoting), in which {ref} is replaced by
	// what the entry runs (repo@sha256:... or the engine's image id),
	// {digest} by its pinned digest and {name} by the entry's name,
	// e.g. "trivy image --quiet --format json {ref}".
	Command string
	// Timeout bounds one run (the process is killed after it).
	Timeout time.Duration
}

// Scan is a stored scan report (the store's record, named here so that the
// API needs no import of the store).
type Scan = store.ImageScan

// maxScannerStderr bounds what a failure quotes of the scanner's errors.
const maxScannerStderr = 2 << 10

// ScanArgs expands the command for entry e.
func (s Scanner) ScanArgs(e Entry) ([]string, error) {
	fields := strings.Fields(s.Command)
	if len(fields) == 0 {
		return nil, errdefs.Invalid("images.scanner_command is empty")
	}
	r := strings.NewReplacer("{ref}", e.RunRef, "{digest}", e.Digest, "{name}", e.Name)
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = r.Replace(f)
	}
	return out, nil
}

// Run runs the scanner on e's pinned image and returns what it printed
// on standard output, which must be a report ParseReport reads. A scanner
// that cannot start, fails, runs past the timeout or prints more than a
// report may hold is an error of kind Unavailable that says so.
func (s Scanner) Run(ctx context.Context, e Entry) ([]byte, error) {
	args, err := s.ScanArgs(e)
	if err != nil {
		return nil, err
	}
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = scannerEnv(os.Environ())
	var stdout limitedBuffer
	stdout.max = maxReport
	var stderr limitedBuffer
	stderr.max = maxScannerStderr
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, errdefs.Unavailablef("the scanner (images.scanner_command) ran past %s on %s and was stopped: raise images.scanner_timeout, or scan it elsewhere and import the report", s.Timeout, e.RunRef)
	case errors.Is(err, exec.ErrNotFound):
		return nil, errdefs.Unavailablef("the scanner %q (images.scanner_command) is not installed on the server's host: install it or change the setting", args[0])
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = ": " + msg
		}
		return nil, errdefs.Unavailablef("the scanner (images.scanner_command) failed on %s (%v)%s", e.RunRef, err, msg)
	case stdout.over:
		return nil, errdefs.Unavailablef("the scanner (images.scanner_command) printed more than %d bytes for %s: that is not a report this server reads", maxReport, e.RunRef)
	}
	return stdout.Bytes(), nil
}

// scannerEnv is the server's environment without Dockyard's own variables
// (DOCKYARD_*), which may hold secrets no scanner needs.
func scannerEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DOCKYARD_") {
			out = append(out, kv)
		}
	}
	return out
}

// limitedBuffer keeps the first max bytes written and notes the rest
// (only Write: a bytes.Buffer's ReadFrom would bypass the limit).
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *limitedBuffer) String() string { return b.buf.String() }

// AutoScan runs the configured scanner on entry e (made by NewEntry or
// Repin, not stored yet) and binds its report to e's pinned digest, as
// ImportScan does for an imported one. It returns ok false when no
// scanner is configured or e is not a docker image (process entries are
// not gated); an error means the scanner ran and failed, or its report
// was refused. Like NewEntry it runs outside a transaction; store the
// scan with StoreScan in the entry's.
func (c *Catalogue) AutoScan(ctx context.Context, user string, e Entry) (scan store.ImageScan, rep Report, ok bool, err error) {
	if c.o.Scanner.Command == "" || e.Runtime != RuntimeDocker {
		return store.ImageScan{}, Report{}, false, nil
	}
	out, err := c.o.Scanner.Run(ctx, e)
	if err != nil {
		return store.ImageScan{}, Report{}, true, err
	}
	scan, rep, err = c.bindReport(user, e, out)
	if err != nil {
		return store.ImageScan{}, Report{}, true, fmt.Errorf("the scanner's report (images.scanner_command) of %s: %w", e.RunRef, err)
	}
	return scan, rep, true, nil
}
