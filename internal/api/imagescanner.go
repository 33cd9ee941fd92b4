package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/images"
)

// autoScan is the scan images.scanner_command made of an entry being
// added or re-pinned: ok when a scanner ran, err when it failed.
type autoScan struct {
	ok   bool
	scan images.Scan
	rep  images.Report
	err  error
}

// runScanner runs the configured scanner on e (outside the transaction:
// it may take minutes). A failure does not refuse the change: the entry
// is added unscanned, the failure is audited and said in the answer, and
// the policy refuses starts from it if it requires a scan.
func (i *ImagesAPI) runScanner(r *http.Request, user string, e images.Entry) autoScan {
	sc, rep, ok, err := i.Images.AutoScan(r.Context(), user, e)
	return autoScan{ok: ok, scan: sc, rep: rep, err: err}
}

// store stores a successful scan and its image.scan.import event, in the
// entry's transaction.
func (i *ImagesAPI) storeScan(r *http.Request, a *autoScan) error {
	if !a.ok || a.err != nil {
		return nil
	}
	id, err := i.Images.StoreScan(r.Context(), a.scan)
	if err != nil {
		return err
	}
	a.scan.ID = id
	return i.recordErr(r, audit.Event{Action: "image.scan.import", Object: "image:" + a.scan.Image, Details: map[string]any{
		"digest": a.scan.Digest, "format": a.scan.Format, "scanned": a.scan.Scanned, "findings": len(a.rep.Findings),
		"by_severity": bySeverity(a.rep), "scan_id": id, "scanner": "images.scanner_command"}})
}

// auditFailure records a scanner's failure (after the entry's change
// committed) as a failed image.scan event.
func (i *ImagesAPI) auditScanFailure(r *http.Request, e images.Entry, a autoScan) {
	if !a.ok || a.err == nil {
		return
	}
	i.record(r, audit.Event{Action: "image.scan", Object: "image:" + e.Name, Result: audit.ResultFailure, Message: a.err.Error(),
		Details: map[string]any{"digest": e.Digest, "run_ref": e.RunRef, "scanner": "images.scanner_command"}})
}

// summary is what the answer says of the scan ("" when none ran).
func (a autoScan) summary() string {
	switch {
	case !a.ok:
		return ""
	case a.err != nil:
		return "failed: " + a.err.Error()
	}
	by := bySeverity(a.rep)
	parts := make([]string, 0, len(by))
	for k, n := range by {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(parts)
	s := fmt.Sprintf("%s scan of %s: %d findings", a.scan.Format, a.scan.Digest, len(a.rep.Findings))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func bySeverity(rep images.Report) map[string]int {
	by := map[string]int{}
	for _, f := range rep.Findings {
		by[f.Severity]++
	}
	return by
}
