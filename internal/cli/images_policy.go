package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/wire"
)

// The scan gate's commands: images scan import, images policy, images allow.

func newImagesScanCmd(env *Env, g *globals) *cobra.Command {
	var file string
	imp := &cobra.Command{
		Use:   "import NAME --file REPORT.json",
		Short: "Import a scan report (Trivy JSON, Grype JSON or CycloneDX with vulnerabilities) of an image's pinned digest (needs configure_mltk_container)",
		Args:  needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.ImageScan, error) {
			if file == "" {
				return wire.ImageScan{}, usagef("%s needs --file REPORT.json", cmd.CommandPath())
			}
			b, err := os.ReadFile(file)
			if err != nil {
				return wire.ImageScan{}, errdefs.Invalidf("--file: %w", err)
			}
			if !json.Valid(b) {
				return wire.ImageScan{}, errdefs.Invalidf("%s is not JSON: give Trivy JSON (trivy image -f json), Grype JSON (grype -o json) or CycloneDX with vulnerabilities", file)
			}
			return c.ImportScan(cmd.Context(), args[0], b)
		}, func(s wire.ImageScan) *table {
			t := &table{header: []string{"image", "digest", "format", "scanned", "findings", "by_severity"}}
			var sev []string
			for k, n := range s.BySeverity {
				sev = append(sev, fmt.Sprintf("%s=%d", k, n))
			}
			sort.Strings(sev)
			t.add(s.Image, s.Digest, s.Format, fmtTime(s.Scanned), fmt.Sprint(s.Findings), dash(strings.Join(sev, ",")))
			return t
		}),
	}
	fileFlag(imp, &file, "the scan report (JSON)")
	return group("scan", "Scan reports of catalogue images", imp)
}

func policyTable(p wire.ImagePolicy) *table {
	t := &table{header: []string{"max_severity", "require_scan", "max_scan_age", "require_signature"}}
	t.add(dash(p.MaxSeverity), fmt.Sprint(p.RequireScan), dash(p.MaxScanAge), fmt.Sprint(p.RequireSignature))
	return t
}

func newImagesPolicyCmd(env *Env, g *globals) *cobra.Command {
	show := &cobra.Command{
		Use: "show", Short: "Show the image policy (needs list_mltk_container)", Args: cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.ImagePolicy, error) {
			return c.ImagePolicy(cmd.Context())
		}, policyTable),
	}
	var sev, age string
	var require, requireSig bool
	set := &cobra.Command{
		Use:   "set [--max-severity low|medium|high|critical] [--require-scan] [--max-scan-age 720h] [--require-signature]",
		Short: "Change the scan gate of container starts; flags not given stay (needs configure_mltk_container)",
		Args:  cobra.NoArgs,
		RunE: fetch(env, g, func(cmd *cobra.Command, _ []string, c *client.Client) (wire.ImagePolicy, error) {
			var u wire.ImagePolicyUpdate
			if cmd.Flags().Changed("max-severity") {
				u.MaxSeverity = &sev
			}
			if cmd.Flags().Changed("require-scan") {
				u.RequireScan = &require
			}
			if cmd.Flags().Changed("max-scan-age") {
				u.MaxScanAge = &age
			}
			if cmd.Flags().Changed("require-signature") {
				u.RequireSignature = &requireSig
			}
			if u == (wire.ImagePolicyUpdate{}) {
				return wire.ImagePolicy{}, usagef("images policy set changes nothing: pass --max-severity, --require-scan, --max-scan-age or --require-signature")
			}
			return c.SetImagePolicy(cmd.Context(), u)
		}, policyTable),
	}
	set.Flags().StringVar(&sev, "max-severity", "", "findings above this severity refuse a start (low, medium, high, critical; \"\" for no limit)")
	set.Flags().BoolVar(&require, "require-scan", false, "refuse images without a scan report of their pinned digest (--require-scan=false to stop)")
	set.Flags().StringVar(&age, "max-scan-age", "", "refuse images whose newest scan is older (e.g. 720h; 0 for no limit)")
	set.Flags().BoolVar(&requireSig, "require-signature", false, "refuse images whose pinned digest is not signed by a key of `images keys` (--require-signature=false to stop)")
	return group("policy", "The image policy: the scan gate every container start from a docker image passes", set, show)
}

// parseUntil reads --until: a date (the exception ends as that day begins,
// UTC) or an RFC 3339 time.
func parseUntil(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--until %q: give a date (2026-12-31) or an RFC 3339 time", s)
}

func newImagesAllowCmd(env *Env, g *globals) *cobra.Command {
	var cve, until, reason string
	cmd := &cobra.Command{
		Use:   "allow NAME --cve ID --until DATE --reason TEXT",
		Short: "Let one vulnerability of an image pass the policy until a date (needs configure_mltk_container)",
		Args:  needArgs(1, "the image's NAME"),
		RunE: fetch(env, g, func(cmd *cobra.Command, args []string, c *client.Client) (wire.ImageException, error) {
			if cve == "" || until == "" || reason == "" {
				return wire.ImageException{}, usagef("%s needs --cve ID, --until DATE and --reason TEXT", cmd.CommandPath())
			}
			u, err := parseUntil(until)
			if err != nil {
				return wire.ImageException{}, err
			}
			return c.AllowCVE(cmd.Context(), args[0], wire.ImageException{CVE: cve, Until: u, Reason: reason})
		}, func(x wire.ImageException) *table {
			t := &table{header: []string{"image", "cve", "until", "reason", "created_by"}}
			t.add(x.Image, x.CVE, fmtTime(x.Until), x.Reason, x.CreatedBy)
			return t
		}),
	}
	cmd.Flags().StringVar(&cve, "cve", "", "the vulnerability id (CVE-2026-12345, GHSA-...)")
	cmd.Flags().StringVar(&until, "until", "", "when the exception ends: a date (it ends as that day begins, UTC) or an RFC 3339 time")
	cmd.Flags().StringVar(&reason, "reason", "", "why the vulnerability may run (audited)")
	return cmd
}
