package images

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Report formats.
const (
	FormatTrivy     = "trivy"
	FormatGrype     = "grype"
	FormatCycloneDX = "cyclonedx"
)

// Finding is one vulnerability a scan found.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"` // low, medium, high, critical or unknown
	Package  string `json:"package,omitempty"`
}

// Report is a scan report as read: its format, the image digests it names
// (none when it names none), when the scan ran (zero when it does not
// say) and its findings.
type Report struct {
	Format   string
	Digests  []string
	Scanned  time.Time
	Findings []Finding
}

// maxReport bounds a report's size.
const maxReport = 64 << 20

// Severities from the least to the most severe; a severity a report
// gives that is none of these counts as unknown, which ranks with
// critical (fail closed).
var severityRank = map[string]int{"negligible": 1, "low": 1, "medium": 2, "moderate": 2, "high": 3, "important": 3, "critical": 4, "unknown": 4}

// NormSeverity is a report's severity as Dockyard ranks it.
func NormSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "negligible", "low", "info", "none":
		return "low"
	case "medium", "moderate":
		return "medium"
	case "high", "important":
		return "high"
	case "critical":
		return "critical"
	}
	return "unknown"
}

// CheckSeverity checks a policy's maximum severity.
func CheckSeverity(s string) error {
	switch s {
	case "", "low", "medium", "high", "critical":
		return nil
	}
	return errdefs.Invalidf("severity %q: use low, medium, high or critical (findings above it refuse a start)", s)
}

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// ParseReport reads a Trivy JSON, Grype JSON or CycloneDX (with
// vulnerabilities) report. Anything else, or a report that does not
// parse, is an errdefs.ErrInvalid error saying which formats are read.
func ParseReport(b []byte) (Report, error) {
	if len(b) > maxReport {
		return Report{}, errdefs.Invalidf("the report is %d bytes, over the limit of %d", len(b), maxReport)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return Report{}, errdefs.Invalidf("the report is not a JSON object (%w): give Trivy JSON (trivy image -f json), Grype JSON (grype -o json) or CycloneDX with vulnerabilities", err)
	}
	var r Report
	var err error
	switch {
	case probe["bomFormat"] != nil:
		r, err = parseCycloneDX(b)
	case probe["matches"] != nil:
		r, err = parseGrype(b)
	case probe["SchemaVersion"] != nil || probe["Results"] != nil:
		r, err = parseTrivy(b)
	default:
		return Report{}, errdefs.Invalid("the report is none of the formats read: give Trivy JSON (trivy image -f json), Grype JSON (grype -o json) or CycloneDX with vulnerabilities")
	}
	if err != nil {
		return Report{}, err
	}
	for i, f := range r.Findings {
		if strings.TrimSpace(f.ID) == "" {
			return Report{}, errdefs.Invalidf("%s report: finding %d has no vulnerability id", r.Format, i+1)
		}
		r.Findings[i].Severity = NormSeverity(f.Severity)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].ID < r.Findings[j].ID })
	r.Digests = uniq(r.Digests)
	return r, nil
}

func uniq(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// digestsIn are the sha256 digests written in the strings.
func digestsIn(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		out = append(out, digestRE.FindAllString(s, -1)...)
	}
	return out
}

func reportTime(format, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errdefs.Invalidf("%s report: its time %q is not RFC 3339", format, s)
	}
	return t.UTC(), nil
}

func strict(format string, b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return errdefs.Invalidf("%s report does not parse: %w", format, err)
	}
	return nil
}

func parseTrivy(b []byte) (Report, error) {
	var t struct {
		SchemaVersion int    `json:"SchemaVersion"`
		CreatedAt     string `json:"CreatedAt"`
		Metadata      struct {
			ImageID     string   `json:"ImageID"`
			RepoDigests []string `json:"RepoDigests"`
		} `json:"Metadata"`
		Results []struct {
			Vulnerabilities []struct {
				VulnerabilityID string `json:"VulnerabilityID"`
				PkgName         string `json:"PkgName"`
				Severity        string `json:"Severity"`
			} `json:"Vulnerabilities"`
		} `json:"Results"`
	}
	if err := strict(FormatTrivy, b, &t); err != nil {
		return Report{}, err
	}
	r := Report{Format: FormatTrivy, Digests: digestsIn(append([]string{t.Metadata.ImageID}, t.Metadata.RepoDigests...)...)}
	var err error
	if r.Scanned, err = reportTime(FormatTrivy, t.CreatedAt); err != nil {
		return Report{}, err
	}
	for _, res := range t.Results {
		for _, v := range res.Vulnerabilities {
			r.Findings = append(r.Findings, Finding{ID: v.VulnerabilityID, Severity: v.Severity, Package: v.PkgName})
		}
	}
	return r, nil
}

func parseGrype(b []byte) (Report, error) {
	var g struct {
		Matches []struct {
			Vulnerability struct {
				ID       string `json:"id"`
				Severity string `json:"severity"`
			} `json:"vulnerability"`
			Artifact struct {
				Name string `json:"name"`
			} `json:"artifact"`
		} `json:"matches"`
		Source struct {
			Target json.RawMessage `json:"target"`
		} `json:"source"`
		Descriptor struct {
			Timestamp string `json:"timestamp"`
		} `json:"descriptor"`
	}
	if err := strict(FormatGrype, b, &g); err != nil {
		return Report{}, err
	}
	r := Report{Format: FormatGrype}
	var target struct {
		ImageID        string   `json:"imageID"`
		ManifestDigest string   `json:"manifestDigest"`
		RepoDigests    []string `json:"repoDigests"`
	}
	if len(g.Source.Target) > 0 && g.Source.Target[0] == '{' {
		if err := json.Unmarshal(g.Source.Target, &target); err != nil {
			return Report{}, errdefs.Invalidf("grype report: source.target does not parse: %w", err)
		}
		r.Digests = digestsIn(append([]string{target.ImageID, target.ManifestDigest}, target.RepoDigests...)...)
	}
	var err error
	if r.Scanned, err = reportTime(FormatGrype, g.Descriptor.Timestamp); err != nil {
		return Report{}, err
	}
	for _, m := range g.Matches {
		r.Findings = append(r.Findings, Finding{ID: m.Vulnerability.ID, Severity: m.Vulnerability.Severity, Package: m.Artifact.Name})
	}
	return r, nil
}

func parseCycloneDX(b []byte) (Report, error) {
	var c struct {
		BomFormat string `json:"bomFormat"`
		Metadata  struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				BomRef  string `json:"bom-ref"`
				Version string `json:"version"`
				Purl    string `json:"purl"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			BomRef string `json:"bom-ref"`
			Name   string `json:"name"`
		} `json:"components"`
		Vulnerabilities *[]struct {
			ID      string `json:"id"`
			Ratings []struct {
				Severity string `json:"severity"`
			} `json:"ratings"`
			Affects []struct {
				Ref string `json:"ref"`
			} `json:"affects"`
		} `json:"vulnerabilities"`
	}
	if err := strict(FormatCycloneDX, b, &c); err != nil {
		return Report{}, err
	}
	if c.BomFormat != "CycloneDX" {
		return Report{}, errdefs.Invalidf("bomFormat %q: only CycloneDX is read", c.BomFormat)
	}
	if c.Vulnerabilities == nil {
		return Report{}, errdefs.Invalid("the CycloneDX document has no vulnerabilities: it is an SBOM, not a scan; give the scanner's CycloneDX vulnerability report (e.g. trivy image -f cyclonedx --scanners vuln)")
	}
	mc := c.Metadata.Component
	r := Report{Format: FormatCycloneDX, Digests: digestsIn(mc.BomRef, mc.Version, mc.Purl)}
	var err error
	if r.Scanned, err = reportTime(FormatCycloneDX, c.Metadata.Timestamp); err != nil {
		return Report{}, err
	}
	names := map[string]string{}
	for _, comp := range c.Components {
		names[comp.BomRef] = comp.Name
	}
	for _, v := range *c.Vulnerabilities {
		// The most severe rating counts.
		sev := ""
		for _, rt := range v.Ratings {
			if n := NormSeverity(rt.Severity); sev == "" || severityRank[n] > severityRank[sev] {
				sev = n
			}
		}
		pkg := ""
		if len(v.Affects) > 0 {
			pkg = names[v.Affects[0].Ref]
			if pkg == "" {
				pkg = v.Affects[0].Ref
			}
		}
		r.Findings = append(r.Findings, Finding{ID: v.ID, Severity: sev, Package: pkg})
	}
	return r, nil
}
