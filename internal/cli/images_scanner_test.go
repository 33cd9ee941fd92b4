package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

// scannerScript is an executable that stands in for a scanner installed on
// the host (trivy) in this test only: called as SCRIPT RUNREF DIGEST, it
// does what the file mode next to it says: "ok" prints a Trivy JSON report
// of the digest with one critical finding, "fail" fails as a scanner
// without its database does.
const scannerScript = `#!/bin/sh
dir=$(dirname "$0")
echo "$1 $2" >> "$dir/calls"
case $(cat "$dir/mode") in
ok) printf '{"SchemaVersion": 2, "Metadata": {"ImageID": "%s"}, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-2026-7", "PkgName": "zlib", "Severity": "CRITICAL"}]}]}\n' "$2" ;;
*) echo "FATAL: the vulnerability database is missing" >&2; exit 3 ;;
esac
`

// TestImagesScannerCommand runs images.scanner_command on images add and
// update: its report is imported and gates starts; its failure keeps the
// entry, says so, and is audited.
func TestImagesScannerCommand(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-trivy")
	if err := os.WriteFile(script, []byte(scannerScript), 0o755); err != nil {
		t.Fatal(err)
	}
	mode := func(m string) {
		if err := os.WriteFile(filepath.Join(dir, "mode"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := servertest.Config(t.TempDir())
	cfg.Images.ScannerCommand = script + " {ref} {digest}"
	h := servertest.StartConfig(t, cfg)
	h.User("ds", access.RoleContainerUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	ds := loginVars(t, h, "ds", servertest.UserPassword)
	reg := imagestest.Plain(t)
	digest := reg.Push(t, "golden-cpu:5.2.0")
	ref := reg.Host + "/golden-cpu:5.2.0"

	mode("ok")
	out, e, code := run(t, admin, "", "images", "add", "golden-cpu", "--ref", ref)
	if code != 0 || !strings.Contains(out, digest) || !strings.Contains(e, "scanned: trivy scan of "+digest+": 1 findings (critical=1)") {
		t.Fatalf("add with a scanner: exit %d, out %q, err %q", code, out, e)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if want := reg.Host + "/golden-cpu@" + digest + " " + digest; strings.TrimSpace(string(calls)) != want {
		t.Fatalf("the scanner was called with %q, want %q", calls, want)
	}
	if _, e, code := run(t, admin, "", "images", "policy", "set", "--max-severity", "high"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := run(t, ds, "", "containers", "start", "web", "--image", "golden-cpu"); code != 4 || !strings.Contains(e, "CVE-2026-7 (critical, zlib)") {
		t.Fatalf("start from an image the scanner found a critical CVE in: exit %d, %q", code, e)
	}

	mode("fail")
	out, e, code = run(t, admin, "", "images", "update", "golden-cpu")
	if code != 0 || !strings.Contains(out, digest) || !strings.Contains(e, "was pinned but not scanned") || !strings.Contains(e, "vulnerability database is missing") {
		t.Fatalf("update with a failing scanner: exit %d, out %q, err %q", code, out, e)
	}
	all := auditBodies(t, h)
	for _, want := range [][]string{
		{`"image.scan.import"`, digest, `"scanner":"images.scanner_command"`},
		{`"image.scan"`, `"failure"`, "vulnerability database is missing"},
	} {
		if !hasAuditEvent(all, want...) {
			t.Errorf("no audit event with %q", want)
		}
	}
}
