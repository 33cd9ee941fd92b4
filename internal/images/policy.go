package images

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// PolicySetting is the settings key the image policy is kept under.
const PolicySetting = "images.policy"

// Policy is the scan gate every start from a docker catalogue entry
// passes: findings above MaxSeverity ("" for no limit) refuse it unless
// excepted, RequireScan refuses an entry without a scan of its pinned
// digest, and MaxScanAge (0 for none) refuses one whose newest scan is
// older; RequireSignature refuses an entry whose pinned content is not
// signed by a trusted key (verified offline, see signature.go). The built-in entry and other process-runtime entries (the
// server's own executable) are not gated.
type Policy struct {
	MaxSeverity string        `json:"max_severity,omitempty"`
	RequireScan bool          `json:"require_scan,omitempty"`
	MaxScanAge  time.Duration `json:"max_scan_age,omitempty"`

	RequireSignature bool `json:"require_signature,omitempty"`
}

// PolicyUpdate changes the given fields of the policy.
type PolicyUpdate struct {
	MaxSeverity *string
	RequireScan *bool
	MaxScanAge  *time.Duration

	RequireSignature *bool
}

// Policy returns the image policy. A stored policy that does not parse is
// an error, which refuses every gated start (fail closed).
func (c *Catalogue) Policy(ctx context.Context) (Policy, error) {
	var p Policy
	if c.o.Settings == nil {
		return p, nil
	}
	v, err := c.o.Settings.GetSetting(ctx, PolicySetting)
	if errdefs.IsNotFound(err) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading the image policy: %w", err)
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return p, errdefs.Unavailablef("the image policy does not parse (%w): starts from gated images are refused until an administrator sets it again with `dockyard images policy set`", err)
	}
	if err := CheckSeverity(p.MaxSeverity); err != nil {
		return p, errdefs.Unavailablef("the stored image policy is invalid (%w): set it again with `dockyard images policy set`", err)
	}
	return p, nil
}

// SetPolicy applies u to the policy and stores it, returning the policy
// before and after. Run it in a transaction with its audit event.
func (c *Catalogue) SetPolicy(ctx context.Context, u PolicyUpdate) (before, after Policy, err error) {
	if c.o.Settings == nil {
		return before, after, errdefs.Unavailable("the image policy has no store")
	}
	before, err = c.Policy(ctx)
	if err != nil && !errdefs.IsUnavailable(err) {
		return before, after, err
	}
	after = before
	if u.MaxSeverity != nil {
		if err := CheckSeverity(*u.MaxSeverity); err != nil {
			return before, after, err
		}
		after.MaxSeverity = *u.MaxSeverity
	}
	if u.RequireScan != nil {
		after.RequireScan = *u.RequireScan
	}
	if u.RequireSignature != nil {
		after.RequireSignature = *u.RequireSignature
	}
	if u.MaxScanAge != nil {
		if *u.MaxScanAge < 0 {
			return before, after, errdefs.Invalid("--max-scan-age must be 0 (no limit) or more, e.g. 720h")
		}
		after.MaxScanAge = *u.MaxScanAge
	}
	b, _ := json.Marshal(after)
	return before, after, c.o.Settings.PutSetting(ctx, PolicySetting, string(b))
}

// ImportScan reads a scan report and binds it to the pinned digest of the
// entry called name: a report that names other digests is refused. It
// returns the record to store with StoreScan (in a transaction with its
// audit event).
func (c *Catalogue) ImportScan(ctx context.Context, user, name string, report []byte) (store.ImageScan, Report, error) {
	e, err := c.Get(ctx, name)
	if err != nil {
		return store.ImageScan{}, Report{}, err
	}
	return c.bindReport(user, e, report)
}

// bindReport reads a report and binds it to e's pinned digest.
func (c *Catalogue) bindReport(user string, e Entry, report []byte) (store.ImageScan, Report, error) {
	name := e.Name
	r, err := ParseReport(report)
	if err != nil {
		return store.ImageScan{}, Report{}, err
	}
	if len(r.Digests) > 0 && !contains(r.Digests, e.Digest) {
		return store.ImageScan{}, Report{}, errdefs.Invalidf("the %s report is of %s, but image %q is pinned to %s: scan the pinned image (%s) and import that report",
			r.Format, strings.Join(r.Digests, ", "), name, e.Digest, e.RunRef)
	}
	now := c.o.Now().UTC()
	if r.Scanned.IsZero() {
		r.Scanned = now
	}
	if r.Scanned.After(now.Add(time.Hour)) {
		return store.ImageScan{}, Report{}, errdefs.Invalidf("the %s report says it ran at %s, in the future: check the scanner's clock", r.Format, r.Scanned.Format(time.RFC3339))
	}
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	b, _ := json.Marshal(findings)
	return store.ImageScan{Image: name, Digest: e.Digest, Format: r.Format, Scanned: r.Scanned, Findings: string(b), ImportedBy: user, Imported: now}, r, nil
}

// StoreScan stores a scan made by ImportScan.
func (c *Catalogue) StoreScan(ctx context.Context, s store.ImageScan) (int64, error) {
	if c.o.Scans == nil {
		return 0, errdefs.Unavailable("scan reports have no store")
	}
	return c.o.Scans.AddImageScan(ctx, s)
}

// Allow lets the CVE of the entry called name pass the policy until the
// given time, for the reason given.
func (c *Catalogue) Allow(ctx context.Context, user, name, cve string, until time.Time, reason string) (store.ImageException, error) {
	if _, err := c.Get(ctx, name); err != nil {
		return store.ImageException{}, err
	}
	cve = strings.TrimSpace(cve)
	switch {
	case cve == "" || strings.ContainsAny(cve, " \t\n,"):
		return store.ImageException{}, errdefs.Invalidf("--cve %q: give one vulnerability id, e.g. CVE-2026-12345", cve)
	case strings.TrimSpace(reason) == "":
		return store.ImageException{}, errdefs.Invalid("an exception needs --reason: why the vulnerability may run")
	case !until.After(c.o.Now()):
		return store.ImageException{}, errdefs.Invalidf("--until %s is not in the future: an exception must expire later", until.Format(time.RFC3339))
	}
	if c.o.Scans == nil {
		return store.ImageException{}, errdefs.Unavailable("exceptions have no store")
	}
	ex := store.ImageException{Image: name, CVE: cve, Until: until.UTC(), Reason: reason, CreatedBy: user, Created: c.o.Now().UTC()}
	return ex, c.o.Scans.PutImageException(ctx, ex)
}

// Exceptions returns the CVE exceptions of the entry called name, by CVE,
// expired ones too (they still refuse, naming the expiry).
func (c *Catalogue) Exceptions(ctx context.Context, name string) ([]store.ImageException, error) {
	if _, err := c.Get(ctx, name); err != nil {
		return nil, err
	}
	if c.o.Scans == nil {
		return nil, errdefs.Unavailable("exceptions have no store")
	}
	return c.o.Scans.ListImageExceptions(ctx, name)
}

// Disallow removes the exception for cve of the entry called name, and
// returns it: that CVE refuses starts again at once.
func (c *Catalogue) Disallow(ctx context.Context, name, cve string) (store.ImageException, error) {
	exs, err := c.Exceptions(ctx, name)
	if err != nil {
		return store.ImageException{}, err
	}
	for _, x := range exs {
		if x.CVE == cve {
			return x, c.o.Scans.DeleteImageException(ctx, name, cve)
		}
	}
	return store.ImageException{}, errdefs.NotFoundf("image %q has no exception for %q: `dockyard images exceptions list %s` shows those it has", name, cve, name)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Decision says what the policy decides now for a start from the entry
// called name: "allowed: ..." or the refusal's reasons (a show, not a
// start: nothing is pulled).
func (c *Catalogue) Decision(ctx context.Context, name string) (string, error) {
	e, err := c.Get(ctx, name)
	if err != nil {
		return "", err
	}
	d, err := c.gate(ctx, e)
	if errdefs.IsPermissionDenied(err) {
		return "refused: " + err.Error(), nil
	}
	return d, err
}

// gate decides whether a start from e may run under the policy, and says
// why: a refusal is an errdefs.ErrPermissionDenied error naming the CVEs,
// the missing or stale scan, or the missing or untrusted signature; what
// cannot be read refuses (fail closed).
func (c *Catalogue) gate(ctx context.Context, e Entry) (string, error) {
	if e.Runtime == RuntimeProcess {
		return "not gated (the dockyard executable)", nil
	}
	p, err := c.Policy(ctx)
	if err != nil {
		return "", refuse(e, err.Error())
	}
	if p == (Policy{}) {
		return "no policy", nil
	}
	if !p.RequireSignature {
		return c.scanGate(ctx, e, p)
	}
	signed, err := c.signatureGate(ctx, e)
	if err != nil {
		return "", err
	}
	p.RequireSignature = false
	if p == (Policy{}) {
		return "allowed: " + signed, nil
	}
	d, err := c.scanGate(ctx, e, p)
	return d + "; " + signed, err
}

// scanGate is the scan part of the gate.
func (c *Catalogue) scanGate(ctx context.Context, e Entry, p Policy) (string, error) {
	if c.o.Scans == nil {
		return "", refuse(e, "scan reports cannot be read")
	}
	sc, err := c.o.Scans.LatestImageScan(ctx, e.Name, e.Digest)
	if errdefs.IsNotFound(err) {
		if p.RequireScan {
			return "", refuse(e, fmt.Sprintf("it has no scan report of its pinned digest %s (images.policy require-scan): import one with `dockyard images scan import %s --file report.json`", e.Digest, e.Name))
		}
		return "allowed: no scan report (not required)", nil
	}
	if err != nil {
		return "", refuse(e, fmt.Sprintf("its scan reports cannot be read: %v", err))
	}
	now := c.o.Now()
	if p.MaxScanAge > 0 && now.Sub(sc.Scanned) > p.MaxScanAge {
		return "", refuse(e, fmt.Sprintf("its newest scan report ran %s, older than the policy's max-scan-age %s: scan it again and import the report with `dockyard images scan import %s --file report.json`",
			sc.Scanned.Format(time.RFC3339), p.MaxScanAge, e.Name))
	}
	var findings []Finding
	if err := json.Unmarshal([]byte(sc.Findings), &findings); err != nil {
		return "", refuse(e, fmt.Sprintf("its scan report %d does not parse (%v): import it again", sc.ID, err))
	}
	if p.MaxSeverity == "" {
		return fmt.Sprintf("allowed: %s scan of %s, no severity limit", sc.Format, sc.Scanned.Format(time.RFC3339)), nil
	}
	exceptions := map[string]store.ImageException{}
	if exs, err := c.o.Scans.ListImageExceptions(ctx, e.Name); err != nil {
		return "", refuse(e, fmt.Sprintf("its policy exceptions cannot be read: %v", err))
	} else {
		for _, x := range exs {
			exceptions[x.CVE] = x
		}
	}
	limit := severityRank[p.MaxSeverity]
	var over, excepted, expired []string
	seen := map[string]bool{}
	for _, f := range findings {
		if severityRank[NormSeverity(f.Severity)] <= limit || seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		x, ok := exceptions[f.ID]
		switch {
		case ok && x.Until.After(now):
			excepted = append(excepted, f.ID)
		case ok:
			expired = append(expired, fmt.Sprintf("%s (%s, %s; its exception expired %s)", f.ID, f.Severity, f.Package, x.Until.Format(time.RFC3339)))
		default:
			over = append(over, fmt.Sprintf("%s (%s, %s)", f.ID, f.Severity, f.Package))
		}
	}
	if bad := append(over, expired...); len(bad) > 0 {
		return "", refuse(e, fmt.Sprintf("its %s scan of %s found %d vulnerabilities above %s: %s; re-pin a fixed image, or except one with `dockyard images allow %s --cve ID --until DATE --reason TEXT`",
			sc.Format, sc.Scanned.Format(time.RFC3339), len(bad), p.MaxSeverity, strings.Join(bad, ", "), e.Name))
	}
	msg := fmt.Sprintf("allowed: %s scan of %s, nothing above %s", sc.Format, sc.Scanned.Format(time.RFC3339), p.MaxSeverity)
	if len(excepted) > 0 {
		msg += "; excepted " + strings.Join(excepted, ", ")
	}
	return msg, nil
}

func refuse(e Entry, why string) error {
	return errdefs.PermissionDeniedf("image %q (%s) is refused by the image policy: %s", e.Name, e.Digest, why)
}
