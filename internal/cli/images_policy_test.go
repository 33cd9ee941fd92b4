package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/images/imagestest"
	"github.com/dockyard/dockyard/internal/server/servertest"
)

func TestImagesScanGate(t *testing.T) {
	h := servertest.Start(t)
	h.User("ds", access.RoleContainerUser)
	admin := loginVars(t, h, "admin", servertest.AdminPassword)
	ds := loginVars(t, h, "ds", servertest.UserPassword)
	reg := imagestest.Plain(t)
	digest := reg.Push(t, "golden-cpu:5.2.0")
	dir := t.TempDir()
	report := func(name, d string, findings ...string) string {
		var vs []string
		for _, f := range findings {
			id, sev, _ := strings.Cut(f, ":")
			vs = append(vs, fmt.Sprintf(`{"VulnerabilityID": %q, "PkgName": "openssl", "Severity": %q}`, id, sev))
		}
		p := filepath.Join(dir, name)
		body := fmt.Sprintf(`{"SchemaVersion": 2, "CreatedAt": %q, "Metadata": {"RepoDigests": ["%s/golden-cpu@%s"]}, "Results": [{"Vulnerabilities": [%s]}]}`,
			time.Now().UTC().Format(time.RFC3339), reg.Host, d, strings.Join(vs, ","))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notJSON := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(notJSON, []byte("CVE-1 critical"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		{admin, []string{"images", "add", "golden-cpu", "--ref", reg.Host + "/golden-cpu:5.2.0"}, 0, digest},
		{admin, []string{"images", "policy", "set"}, 2, "changes nothing"},
		{admin, []string{"images", "policy", "set", "--max-severity", "severe"}, 1, "low, medium, high or critical"},
		{admin, []string{"images", "policy", "set", "--max-scan-age", "a month"}, 1, "720h"},
		{ds, []string{"images", "policy", "set", "--require-scan"}, 4, "configure_mltk_container"},
		{admin, []string{"images", "policy", "set", "--max-severity", "high", "--require-scan", "--max-scan-age", "720h"}, 0, "720h0m0s"},
		{ds, []string{"images", "policy", "show", "-o", "json"}, 0, `"require_scan": true`},
		{ds, []string{"containers", "start", "web", "--image", "golden-cpu"}, 4, "no scan report of its pinned digest"},
		{admin, []string{"images", "scan", "import", "golden-cpu"}, 2, "--file"},
		{admin, []string{"images", "scan", "import", "golden-cpu", "--file", notJSON}, 1, "is not JSON"},
		{admin, []string{"images", "scan", "import", "golden-cpu", "--file", report("other.json", "sha256:"+strings.Repeat("0", 64))}, 1, "is pinned to " + digest},
		{admin, []string{"images", "scan", "import", "golden-cpu", "--file", report("crit.json", digest, "CVE-2026-9:CRITICAL", "CVE-2026-8:LOW")}, 0, "critical=1,low=1"},
		{ds, []string{"containers", "start", "web", "--image", "golden-cpu"}, 4, "CVE-2026-9 (critical, openssl)"},
		{ds, []string{"images", "show", "golden-cpu", "-o", "json"}, 0, `"policy": "refused: image`},
		{admin, []string{"images", "allow", "golden-cpu", "--cve", "CVE-2026-9", "--until", "yesterday", "--reason", "x"}, 2, "--until"},
		{admin, []string{"images", "allow", "golden-cpu", "--cve", "CVE-2026-9", "--until", "2020-01-01", "--reason", "x"}, 1, "not in the future"},
		{admin, []string{"images", "allow", "golden-cpu", "--cve", "CVE-2026-9", "--until", time.Now().AddDate(0, 1, 0).Format("2006-01-02"), "--reason", "no fix upstream yet"}, 0, "CVE-2026-9"},
		{ds, []string{"images", "show", "golden-cpu", "-o", "json"}, 0, "excepted CVE-2026-9"},
	}
	for _, s := range steps {
		runWant(t, s.vars, "", s.code, s.want, s.args...)
	}
	// Excepted, the start passes the gate (whether this machine's Docker
	// Engine then runs the random test image is another matter).
	if _, e, _ := run(t, ds, "", "containers", "start", "web", "--image", "golden-cpu"); strings.Contains(e, "image policy") {
		t.Errorf("start with the CVE excepted: %s", e)
	}
	// The exceptions are listed, and one removed refuses again at once.
	for _, s := range []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		{ds, []string{"images", "exceptions", "list", "golden-cpu"}, 0, "no fix upstream yet"},
		{ds, []string{"images", "exceptions", "list", "nosuch"}, ExitNotFound, "nosuch"},
		{ds, []string{"images", "show", "golden-cpu", "-o", "json"}, 0, `"exceptions": 1`},
		{ds, []string{"images", "exceptions", "remove", "golden-cpu", "--cve", "CVE-2026-9", "--yes"}, 4, "configure_mltk_container"},
		{admin, []string{"images", "exceptions", "remove", "golden-cpu", "--yes"}, 2, "--cve"},
		{admin, []string{"images", "exceptions", "remove", "golden-cpu", "--cve", "CVE-2026-9"}, 2, "--yes"},
		{admin, []string{"images", "exceptions", "remove", "golden-cpu", "--cve", "CVE-2026-1", "--yes"}, ExitNotFound, "images exceptions list golden-cpu"},
		{admin, []string{"images", "exceptions", "remove", "golden-cpu", "--cve", "CVE-2026-9", "--yes"}, 0, "refuses starts again"},
		{ds, []string{"images", "exceptions", "list", "golden-cpu", "-o", "json"}, 0, "[]"},
		{ds, []string{"containers", "start", "web2", "--image", "golden-cpu"}, 4, "CVE-2026-9 (critical, openssl)"},
	} {
		runWant(t, s.vars, "", s.code, s.want, s.args...)
	}
	all := auditBodies(t, h)
	for _, want := range [][]string{
		{`"image.disallow"`, "CVE-2026-9", "no fix upstream yet"},
		{`"image.policy.set"`, `"require_scan":true`},
		{`"image.scan.import"`, digest},
		{`"image.allow"`, "CVE-2026-9", "no fix upstream yet"},
		{`"container.start"`, `"denied"`, "no scan report"},
		{`"container.start"`, `"denied"`, "CVE-2026-9"},
	} {
		if !hasAuditEvent(all, want...) {
			t.Errorf("no audit event with %q", want)
		}
	}
}
