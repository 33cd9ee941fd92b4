package images_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/images"
)

func TestScannerRun(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e := images.Entry{Name: "golden-cpu", RunRef: "reg.example.com/golden-cpu@sha256:" + strings.Repeat("a", 64), Digest: "sha256:" + strings.Repeat("a", 64)}
	ctx := context.Background()

	args, err := images.Scanner{Command: "trivy  image --format json {ref} --name={name}"}.ScanArgs(e)
	if err != nil || strings.Join(args, "|") != "trivy|image|--format|json|"+e.RunRef+"|--name=golden-cpu" {
		t.Fatalf("args = %q, %v", args, err)
	}
	// Dockyard's own variables do not reach it.
	t.Setenv("DOCKYARD_TEST_SCANNER_SECRET", "s3cret")
	if out, err := (images.Scanner{Command: script("env", "env")}).Run(ctx, e); err != nil || strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "PATH=") {
		t.Fatalf("the scanner's environment = %q, %v", out, err)
	}
	// Arguments are never read by a shell.
	out, err := images.Scanner{Command: script("echo", `printf '%s' "$1"`) + " {ref};touch"}.Run(ctx, e)
	if err != nil || string(out) != e.RunRef+";touch" {
		t.Fatalf("echo = %q, %v", out, err)
	}
	for _, c := range []struct {
		s    images.Scanner
		want string
	}{
		{images.Scanner{Command: "dockyard-no-such-scanner {ref}"}, "is not installed on the server's host"},
		{images.Scanner{Command: script("fail", "echo 'no database' >&2; exit 2")}, "failed on " + e.RunRef + " (exit status 2): no database"},
		{images.Scanner{Command: script("slow", "exec sleep 60"), Timeout: 200 * time.Millisecond}, "ran past 200ms"},
		{images.Scanner{Command: script("big", "head -c 70000000 /dev/zero")}, "printed more than"},
	} {
		_, err := c.s.Run(ctx, e)
		if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want Unavailable with %q", c.s.Command, err, c.want)
		}
	}
}
