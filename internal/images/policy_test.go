package images

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/signing"
	"github.com/dockyard/dockyard/internal/store"
)

// trivyReport is a Trivy report of digest, run at scanned, with findings
// "ID:SEVERITY".
func trivyReport(digest string, scanned time.Time, findings ...string) []byte {
	var vs []string
	for _, f := range findings {
		id, sev, _ := strings.Cut(f, ":")
		vs = append(vs, fmt.Sprintf(`{"VulnerabilityID": %q, "PkgName": "pkg", "Severity": %q}`, id, sev))
	}
	return []byte(fmt.Sprintf(`{"SchemaVersion": 2, "CreatedAt": %q, "Metadata": {"ImageID": %q}, "Results": [{"Vulnerabilities": [%s]}]}`,
		scanned.Format(time.RFC3339), digest, strings.Join(vs, ",")))
}

// TestPolicyMatrix starts (Pin) from one image under each policy and scan
// state and checks that each is allowed or refused, saying why.
func TestPolicyMatrix(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	strict := Policy{MaxSeverity: "high", RequireScan: true, MaxScanAge: 720 * time.Hour}
	signed := Policy{RequireSignature: true}
	strictSigned := strict
	strictSigned.RequireSignature = true
	trusted, untrusted := testKey(t), testKey(t)
	for _, tc := range []struct {
		name       string
		policy     *Policy // nil: none set
		rawPolicy  string  // stored as is, instead of policy
		scan       []byte  // imported before the start; nil for none
		exceptions []store.ImageException
		signed     string // "trusted", "untrusted" (by a key not trusted), "other" (a trusted key, another digest), "tampered"
		noKeys     bool   // no image key trusted
		allowed    bool
		want       string // in the decision or the refusal
	}{
		{name: "no policy, unscanned", allowed: true, want: "no policy"},
		{name: "unscanned", policy: &strict, want: "no scan report of its pinned digest"},
		{name: "unscanned, scan not required", policy: &Policy{MaxSeverity: "high"}, allowed: true, want: "no scan report (not required)"},
		{name: "stale scan", policy: &strict, scan: trivyReport(imageID, now.Add(-800*time.Hour)), want: "older than the policy's max-scan-age 720h0m0s"},
		{name: "critical CVE", policy: &strict, scan: trivyReport(imageID, now.Add(-time.Hour), "CVE-2026-9:CRITICAL", "CVE-2026-8:LOW"),
			want: "found 1 vulnerabilities above high: CVE-2026-9 (critical, pkg)"},
		{name: "unknown severity counts as critical", policy: &strict, scan: trivyReport(imageID, now.Add(-time.Hour), "CVE-2026-7:UNKNOWN"), want: "CVE-2026-7 (unknown"},
		{name: "excepted CVE", policy: &strict, scan: trivyReport(imageID, now.Add(-time.Hour), "CVE-2026-9:CRITICAL"),
			exceptions: []store.ImageException{{CVE: "CVE-2026-9", Until: now.Add(24 * time.Hour), Reason: "no fix yet"}}, allowed: true, want: "excepted CVE-2026-9"},
		{name: "expired exception", policy: &strict, scan: trivyReport(imageID, now.Add(-time.Hour), "CVE-2026-9:CRITICAL"),
			exceptions: []store.ImageException{{CVE: "CVE-2026-9", Until: now.Add(-time.Minute), Reason: "was waiting for a fix"}}, want: "its exception expired"},
		{name: "good", policy: &strict, scan: trivyReport(imageID, now.Add(-time.Hour), "CVE-2026-8:LOW", "CVE-2026-6:high"), allowed: true, want: "nothing above high"},
		{name: "unsigned", policy: &signed, want: "no signature of its pinned digest"},
		{name: "wrongly signed", policy: &signed, signed: "untrusted", want: "none of its 1 signatures verifies with a trusted key (release)"},
		{name: "signed payload changed", policy: &signed, signed: "tampered", want: "none of its 1 signatures verifies"},
		{name: "signed, no key trusted", policy: &signed, signed: "trusted", noKeys: true, want: "no image signing key is trusted"},
		{name: "signed", policy: &signed, signed: "trusted", allowed: true, want: "allowed: signed by release (sha256:"},
		{name: "signed and scanned", policy: &strictSigned, signed: "trusted", scan: trivyReport(imageID, now.Add(-time.Hour)), allowed: true, want: "nothing above high; signed by release"},
		{name: "signed, unscanned", policy: &strictSigned, signed: "trusted", want: "no scan report of its pinned digest"},
		{name: "signature not required", policy: &Policy{MaxSeverity: "high"}, signed: "untrusted", allowed: true, want: "no scan report (not required)"},
		{name: "unreadable policy", rawPolicy: `{"max_severity": 7`, want: "does not parse"},
		{name: "invalid stored policy", rawPolicy: `{"max_severity": "severe"}`, want: "is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.cat.o.Now = func() time.Time { return now }
			e.engine["golden:1"] = imageID
			if _, err := e.add(t, AddRequest{Name: "golden", Ref: "golden:1"}); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.rawPolicy != "":
				if err := e.st.PutSetting(ctx, PolicySetting, tc.rawPolicy); err != nil {
					t.Fatal(err)
				}
			case tc.policy != nil:
				p := *tc.policy
				if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{MaxSeverity: &p.MaxSeverity, RequireScan: &p.RequireScan, MaxScanAge: &p.MaxScanAge,
					RequireSignature: &p.RequireSignature}); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.noKeys {
				if _, err := e.cat.Keys().Add(ctx, "admin", "release", publicPEM(t, trusted)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.signed != "" {
				key, payload := trusted, mustPayload(t, "registry.example.com/golden", imageID)
				switch tc.signed {
				case "untrusted":
					key = untrusted
				}
				sig, err := signing.SignPayload(key, payload)
				if err != nil {
					t.Fatal(err)
				}
				if tc.signed == "tampered" {
					payload = []byte(strings.Replace(string(payload), "registry.example.com", "registry.example.org", 1))
				}
				rec, err := e.cat.NewSignature(ctx, "admin", "golden", payload, sig)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.cat.SaveSignatures(ctx, []store.ImageSignature{rec}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.scan != nil {
				sc, _, err := e.cat.ImportScan(ctx, "admin", "golden", tc.scan)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.cat.StoreScan(ctx, sc); err != nil {
					t.Fatal(err)
				}
			}
			for _, x := range tc.exceptions {
				x.Image = "golden"
				if err := e.st.PutImageException(ctx, x); err != nil {
					t.Fatal(err)
				}
			}
			p, err := e.cat.Pin(ctx, "golden")
			switch {
			case tc.allowed && (err != nil || !strings.Contains(p.Policy, tc.want)):
				t.Fatalf("Pin = %+v, %v; want allowed saying %q", p, err, tc.want)
			case !tc.allowed && (!errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), imageID)):
				t.Fatalf("Pin = %+v, %v; want refused naming the digest and saying %q", p, err, tc.want)
			}
		})
	}
}

func TestPolicyInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Now()
	e.engine["golden:1"] = imageID
	if _, err := e.add(t, AddRequest{Name: "golden", Ref: "golden:1"}); err != nil {
		t.Fatal(err)
	}
	sev, neg := "severe", -time.Hour
	if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{MaxSeverity: &sev}); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "low, medium, high or critical") {
		t.Errorf("bad severity: %v", err)
	}
	if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{MaxScanAge: &neg}); !errdefs.IsInvalid(err) {
		t.Errorf("negative age: %v", err)
	}
	// A report of another image is refused; one without a digest binds to the pinned one.
	if _, _, err := e.cat.ImportScan(ctx, "admin", "golden", trivyReport(manifest, now)); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "is pinned to "+imageID) {
		t.Errorf("report of another digest: %v", err)
	}
	sc, _, err := e.cat.ImportScan(ctx, "admin", "golden", []byte(`{"SchemaVersion": 2}`))
	if err != nil || sc.Digest != imageID || sc.Findings != "[]" {
		t.Errorf("report without a digest = %+v, %v", sc, err)
	}
	if _, _, err := e.cat.ImportScan(ctx, "admin", "nope", trivyReport(imageID, now)); !errdefs.IsNotFound(err) {
		t.Errorf("report for a missing entry: %v", err)
	}
	if _, _, err := e.cat.ImportScan(ctx, "admin", "golden", trivyReport(imageID, now.Add(48*time.Hour))); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("report from the future: %v", err)
	}
	for _, tc := range []struct {
		cve, reason string
		until       time.Time
		want        string
	}{
		{"", "r", now.Add(time.Hour), "one vulnerability id"},
		{"CVE-1 CVE-2", "r", now.Add(time.Hour), "one vulnerability id"},
		{"CVE-1", " ", now.Add(time.Hour), "needs --reason"},
		{"CVE-1", "r", now.Add(-time.Hour), "not in the future"},
	} {
		if _, err := e.cat.Allow(ctx, "admin", "golden", tc.cve, tc.until, tc.reason); !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Allow(%q, %q, %s) = %v, want %q", tc.cve, tc.reason, tc.until, err, tc.want)
		}
	}
	if _, err := e.cat.Allow(ctx, "admin", "golden", "CVE-1", now.Add(time.Hour), "vendor fix due"); err != nil {
		t.Error(err)
	}
	// The process entries are not gated, whatever the policy.
	req := true
	if _, _, err := e.cat.SetPolicy(ctx, PolicyUpdate{RequireScan: &req}); err != nil {
		t.Fatal(err)
	}
	if p, err := e.cat.Pin(ctx, ProcessImage); err != nil || !strings.Contains(p.Policy, "not gated") {
		t.Errorf("built-in entry under require-scan = %+v, %v", p, err)
	}
}
