package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

const (
	imageID  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	repoDig  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	manifest = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseReport(t *testing.T) {
	for _, tc := range []struct {
		file, format string
		digests      []string
		scanned      string
		findings     []Finding
	}{
		{"trivy.json", FormatTrivy, []string{imageID, repoDig}, "2026-11-30T10:00:00.123456789Z",
			[]Finding{{"CVE-2026-0001", "critical", "openssl"}, {"CVE-2026-0002", "low", "zlib"}}},
		{"grype.json", FormatGrype, []string{imageID, manifest}, "2026-11-29T08:00:00Z",
			[]Finding{{"CVE-2026-0003", "high", "libxml2"}, {"GHSA-xxxx-yyyy-zzzz", "low", "pip"}}},
		{"cyclonedx.json", FormatCycloneDX, []string{repoDig}, "2026-11-28T07:00:00Z",
			[]Finding{{"CVE-2026-0004", "critical", "openssl"}, {"CVE-2026-0005", "low", "pkg:deb/debian/other@1"}}},
	} {
		r, err := ParseReport(readTestdata(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		want, _ := time.Parse(time.RFC3339Nano, tc.scanned)
		if r.Format != tc.format || strings.Join(r.Digests, " ") != strings.Join(tc.digests, " ") || !r.Scanned.Equal(want) {
			t.Errorf("%s: format %s, digests %v, scanned %s", tc.file, r.Format, r.Digests, r.Scanned)
		}
		if len(r.Findings) != len(tc.findings) {
			t.Fatalf("%s: findings %+v, want %+v", tc.file, r.Findings, tc.findings)
		}
		for i := range tc.findings {
			if r.Findings[i] != tc.findings[i] {
				t.Errorf("%s: finding %d = %+v, want %+v", tc.file, i, r.Findings[i], tc.findings[i])
			}
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`[]`, "not a JSON object"},
		{`{"hello": 1}`, "none of the formats"},
		{`{"bomFormat": "CycloneDX", "components": []}`, "it is an SBOM, not a scan"},
		{`{"bomFormat": "SPDX", "vulnerabilities": []}`, "only CycloneDX"},
		{`{"matches": [{"vulnerability": {"severity": "High"}}]}`, "no vulnerability id"},
		{`{"SchemaVersion": 2, "CreatedAt": "yesterday"}`, "not RFC 3339"},
		{`{"SchemaVersion": "two"}`, "does not parse"},
	} {
		if _, err := ParseReport([]byte(tc.in)); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseReport(%s) = %v, want an error saying %q", tc.in, err, tc.want)
		}
	}
}

// fuzzReport checks what any input does to the parser: an Invalid error,
// or a report of the expected format whose findings all have ids and
// known severities.
func fuzzReport(f *testing.F, seed string) {
	f.Add(readTestdata(f, seed))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReport(b)
		if err != nil {
			if !errdefs.IsInvalid(err) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		for _, fd := range r.Findings {
			if strings.TrimSpace(fd.ID) == "" {
				t.Fatalf("finding without an id: %+v", r.Findings)
			}
			if _, ok := severityRank[fd.Severity]; !ok || fd.Severity != NormSeverity(fd.Severity) {
				t.Fatalf("severity %q is not normalised", fd.Severity)
			}
		}
		for _, d := range r.Digests {
			if !digestRE.MatchString(d) || len(d) != len(imageID) {
				t.Fatalf("digest %q", d)
			}
		}
	})
}

func FuzzTrivyReport(f *testing.F)     { fuzzReport(f, "trivy.json") }
func FuzzGrypeReport(f *testing.F)     { fuzzReport(f, "grype.json") }
func FuzzCycloneDXReport(f *testing.F) { fuzzReport(f, "cyclonedx.json") }
