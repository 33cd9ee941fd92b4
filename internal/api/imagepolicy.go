package api

import (
	"net/http"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
	"github.com/dockyard/dockyard/internal/wire"
)

// policyRoutes serve the scan gate: importing scan reports, the policy
// and its exceptions (each change an audit event committed with it).
func (i *ImagesAPI) policyRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/images/{name}/scans", Cap: access.CapConfigureContainer, Action: "image.scan.import", Handle: i.importScan},
		{Method: "POST", Pattern: "/v1/images/{name}/exceptions", Cap: access.CapConfigureContainer, Action: "image.allow", Handle: i.allow},
		{Method: "GET", Pattern: "/v1/images/{name}/exceptions", Cap: access.CapListContainer, Action: "image.exceptions.list", Handle: i.exceptions},
		{Method: "DELETE", Pattern: "/v1/images/{name}/exceptions/{cve}", Cap: access.CapConfigureContainer, Action: "image.disallow", Handle: i.disallow},
		{Method: "GET", Pattern: "/v1/image-policy", Cap: access.CapListContainer, Action: "image.policy.show", Handle: i.showPolicy},
		{Method: "PATCH", Pattern: "/v1/image-policy", Cap: access.CapConfigureContainer, Action: "image.policy.set", Handle: i.setPolicy},
	}
}

func policyWire(p images.Policy) wire.ImagePolicy {
	age := ""
	if p.MaxScanAge > 0 {
		age = p.MaxScanAge.String()
	}
	return wire.ImagePolicy{MaxSeverity: p.MaxSeverity, RequireScan: p.RequireScan, MaxScanAge: age, RequireSignature: p.RequireSignature}
}

func policyDetails(p images.Policy) map[string]any {
	w := policyWire(p)
	return map[string]any{"max_severity": w.MaxSeverity, "require_scan": w.RequireScan, "max_scan_age": w.MaxScanAge, "require_signature": w.RequireSignature}
}

func (i *ImagesAPI) importScan(w http.ResponseWriter, r *http.Request) error {
	var req wire.ScanImport
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	sc, rep, err := i.Images.ImportScan(r.Context(), p.User, r.PathValue("name"), req.Report)
	if err != nil {
		return err
	}
	by := map[string]int{}
	for _, f := range rep.Findings {
		by[f.Severity]++
	}
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		if sc.ID, err = i.Images.StoreScan(r.Context(), sc); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.scan.import", Object: "image:" + sc.Image, Details: map[string]any{
			"digest": sc.Digest, "format": sc.Format, "scanned": sc.Scanned, "findings": len(rep.Findings), "by_severity": by, "scan_id": sc.ID}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wire.ImageScan{ID: sc.ID, Image: sc.Image, Digest: sc.Digest, Format: sc.Format, Scanned: sc.Scanned,
		Findings: len(rep.Findings), BySeverity: by})
}

func (i *ImagesAPI) allow(w http.ResponseWriter, r *http.Request) error {
	var req wire.ImageException
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var ex wire.ImageException
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		x, err := i.Images.Allow(r.Context(), p.User, r.PathValue("name"), req.CVE, req.Until, req.Reason)
		if err != nil {
			return err
		}
		ex = exceptionWire(x, i.Images.Now())
		return i.recordErr(r, audit.Event{Action: "image.allow", Object: "image:" + x.Image, Details: map[string]any{
			"cve": x.CVE, "until": x.Until, "reason": x.Reason}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ex)
}

func exceptionWire(x images.Exception, now time.Time) wire.ImageException {
	return wire.ImageException{Image: x.Image, CVE: x.CVE, Until: x.Until, Reason: x.Reason, CreatedBy: x.CreatedBy, Created: x.Created,
		Expired: !x.Until.After(now)}
}

func (i *ImagesAPI) exceptions(w http.ResponseWriter, r *http.Request) error {
	exs, err := i.Images.Exceptions(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	out := make([]wire.ImageException, 0, len(exs))
	for _, x := range exs {
		out = append(out, exceptionWire(x, i.Images.Now()))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (i *ImagesAPI) disallow(w http.ResponseWriter, r *http.Request) error {
	var x images.Exception
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		var err error
		if x, err = i.Images.Disallow(r.Context(), r.PathValue("name"), r.PathValue("cve")); err != nil {
			return err
		}
		return i.recordErr(r, audit.Event{Action: "image.disallow", Object: "image:" + x.Image, Details: map[string]any{
			"cve": x.CVE, "until": x.Until, "reason": x.Reason, "created_by": x.CreatedBy}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, exceptionWire(x, i.Images.Now()))
}

func (i *ImagesAPI) showPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := i.Images.Policy(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, policyWire(p))
}

func (i *ImagesAPI) setPolicy(w http.ResponseWriter, r *http.Request) error {
	var req wire.ImagePolicyUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	u := images.PolicyUpdate{MaxSeverity: req.MaxSeverity, RequireScan: req.RequireScan, RequireSignature: req.RequireSignature}
	if req.MaxScanAge != nil {
		d := time.Duration(0)
		if *req.MaxScanAge != "" {
			var err error
			if d, err = time.ParseDuration(*req.MaxScanAge); err != nil {
				return errdefs.Invalidf("max-scan-age %q: give a duration such as 720h (0 for no limit)", *req.MaxScanAge)
			}
		}
		u.MaxScanAge = &d
	}
	var after images.Policy
	if err := i.changeIn(i.Images, r, func(r *http.Request) error {
		before, a, err := i.Images.SetPolicy(r.Context(), u)
		if err != nil {
			return err
		}
		after = a
		d := policyDetails(after)
		d["before"] = policyDetails(before)
		return i.recordErr(r, audit.Event{Action: "image.policy.set", Object: "image-policy", Details: d})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, policyWire(after))
}
