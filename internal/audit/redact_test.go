package audit_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/audit"
)

func TestRedactTracebacksAndCap(t *testing.T) {
	f := open(t)
	f.log = f.reopen(t, audit.Options{MaxText: 600})
	secrets := []string{"AKIAABCDEFGHIJKLMNOP", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "eyJhbGciOiJIUzI1NiJ9.payload.sig", "pa55w0rd-db", "k3y-material-77", "s3cr3t-in-url"}
	traceback := `Traceback (most recent call last):
  File "/srv/app/model.py", line 12, in fit
    client = boto3.client("s3", aws_access_key_id="` + secrets[0] + `")
  File "/srv/app/db.py", line 3, in connect
    requests.get(url, headers={"Authorization": "Bearer ` + secrets[2] + `"})
-----BEGIN RSA PRIVATE KEY-----
` + secrets[1] + `
-----END RSA PRIVATE KEY-----
psycopg2.OperationalError: connect postgres://app:` + secrets[5] + `@db:5432/x password=` + secrets[3] + ` key=` + secrets[4] + `
` + strings.Repeat("x", 2000)
	e := audit.Event{User: "alice", Action: "model.fit", Result: audit.ResultFailure, Message: traceback,
		Details: map[string]any{"traceback": traceback, "stderr": "api_key: " + secrets[4]}}
	if err := f.log.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.log.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := f.db.SQL().QueryRow(`SELECT raw FROM events`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	all := buf.String() + raw
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in the audit trail:\n%s", s, all)
		}
	}
	for _, keep := range []string{"Traceback (most recent call last)", "psycopg2.OperationalError", "truncated:", audit.Redacted} {
		if !strings.Contains(all, keep) {
			t.Errorf("audit trail lost %q:\n%s", keep, all)
		}
	}
	if strings.Contains(all, strings.Repeat("x", 700)) {
		t.Error("a long message was not capped")
	}
	if _, err := f.log.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRedactTextKeepsProse(t *testing.T) {
	for in, want := range map[string]string{
		"basic training of the model":                                        "basic training of the model",
		"Authorization: Bearer abc123":                                       "Authorization: Bearer [REDACTED]",
		"sent Bearer eyJhbGciOi.x.y to the agent":                            "sent Bearer [REDACTED] to the agent",
		"splunk search done":                                                 "splunk search done",
		"db password=hunter2 failed":                                         "db password=[REDACTED] failed",
		`{"api_key": "abc"}`:                                                 `{"api_key": [REDACTED]}`,
		"creds AKIAABCDEFGHIJKLMNOP used":                                    "creds [REDACTED] used",
		"url https://u:pw@host/x":                                            "url https://u:[REDACTED]@host/x",
		"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- after": "[REDACTED] after",
	} {
		if got := audit.RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
}
