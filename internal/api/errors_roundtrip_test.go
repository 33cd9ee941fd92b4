package api

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dockyard/dockyard/internal/client"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

// kindErr is the error a test route answers for a kind's name.
func kindErr(name string) error {
	for _, k := range errdefs.Kinds {
		if k.Error() == name {
			// The cause's kind must not show: the outermost kind answers.
			return errdefs.Newf(k, "the %s answer: what to do (%w)", name, errdefs.NotFound("a cause"))
		}
	}
	return nil
}

// roundTrip serves the API with routes that answer each kind and returns a
// client of it (over TLS, as every client talks).
func roundTrip(t *testing.T) *client.Client {
	t.Helper()
	a := &API{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a.Extra = []Route{
		{Method: "GET", Pattern: "/v1/test/kind/{kind}", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return kindErr(r.PathValue("kind"))
		}},
		{Method: "GET", Pattern: "/v1/test/nokind", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("a bug")
		}},
		{Method: "GET", Pattern: "/v1/test/diskfull", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			return errdefs.Invalidf("writing: %w", syscall.ENOSPC)
		}},
		{Method: "POST", Pattern: "/v1/test/json", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			var v map[string]any
			return decode(w, r, &v)
		}},
		{Method: "GET", Pattern: "/v1/test/status/{status}", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			// What a proxy or a router answers: no wire.Error body.
			s, _ := strconv.Atoi(r.PathValue("status"))
			http.Error(w, "the proxy says "+r.PathValue("status"), s)
			return nil
		}},
		{Method: "POST", Pattern: "/v1/search", Cap: Public, Handle: func(w http.ResponseWriter, r *http.Request) error {
			// A search that fails after its answer began: an error frame.
			var req wire.SearchRequest
			if err := decode(w, r, &req); err != nil {
				return err
			}
			sa := &SearchAPI{API: a}
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			return json.NewEncoder(w).Encode(wire.SearchFrame{Error: sa.errorFrame(r, kindErr(req.Search))})
		}},
	}
	srv := httptest.NewTLSServer(a.Handler())
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Options{Server: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestErrorRoundTrip: every kind the server answers reaches the client as
// the same kind with the same message, in an error answer and in a
// search's error frame.
func TestErrorRoundTrip(t *testing.T) {
	c := roundTrip(t)
	ctx := context.Background()
	for _, k := range errdefs.Kinds {
		sent := kindErr(k.Error())
		for _, how := range []string{"answer", "search frame"} {
			var got error
			if how == "answer" {
				got = c.Do(ctx, "GET", "/v1/test/kind/"+k.Error(), nil, nil)
			} else {
				_, got = c.Search(ctx, k.Error(), "", client.SearchHandler{})
			}
			if errdefs.Kind(got) != k {
				t.Errorf("%s %v: client got %v of kind %v", how, k, got, errdefs.Kind(got))
				continue
			}
			if k == errdefs.ErrInternal {
				// Internal details stay in the server log.
				if !strings.Contains(got.Error(), "internal error; the server log has the details under request id") {
					t.Errorf("%s internal: message %q", how, got.Error())
				}
				continue
			}
			if got.Error() != sent.Error() {
				t.Errorf("%s %v: message %q, want %q", how, k, got.Error(), sent.Error())
			}
		}
	}
}

// TestErrorDecodeSpecial: the answers that are not a kind's row.
func TestErrorDecodeSpecial(t *testing.T) {
	c := roundTrip(t)
	ctx := context.Background()
	cases := []struct {
		name, method, path, body string
		kind                     error
		msg                      string
	}{
		{"no kind", "GET", "/v1/test/nokind", "", errdefs.ErrInternal, "internal error; the server log has the details"},
		{"disk full", "GET", "/v1/test/diskfull", "", errdefs.ErrUnavailable, "the server's disk is full"},
		{"body too large", "POST", "/v1/test/json", `{"x":"` + strings.Repeat("a", maxBody) + `"}`, errdefs.ErrLimit, "request body is larger than 1048576 bytes"},
		{"bad JSON", "POST", "/v1/test/json", `{`, errdefs.ErrInvalid, "request body is not valid JSON"},
		{"no such endpoint", "GET", "/v1/nothing", "", errdefs.ErrNotFound, "no such endpoint: GET /v1/nothing"},
		{"unknown 4xx", "GET", "/v1/test/status/418", "", errdefs.ErrInvalid, "the proxy says 418"},
		{"unknown 5xx", "GET", "/v1/test/status/502", "", errdefs.ErrUnavailable, "the proxy says 502"},
		{"plain 500", "GET", "/v1/test/status/500", "", errdefs.ErrInternal, "the proxy says 500"},
		{"plain 413", "GET", "/v1/test/status/413", "", errdefs.ErrLimit, "the proxy says 413"},
	}
	for _, tc := range cases {
		resp, err := c.Raw(ctx, tc.method, tc.path, strings.NewReader(tc.body), "application/json")
		if err == nil {
			resp.Body.Close()
		}
		if errdefs.Kind(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: client got %q of kind %v, want kind %v with %q", tc.name, err, errdefs.Kind(err), tc.kind, tc.msg)
		}
	}
}

// TestStatusOfUsesTheTable: the API answers each kind with errhttp's row.
func TestStatusOfUsesTheTable(t *testing.T) {
	for _, e := range errhttp.Table {
		if e == errhttp.TooLarge || e == errhttp.DiskFull {
			continue
		}
		s, code := statusOf(errdefs.New(e.Kind, "x"))
		if s != e.Status || code != e.Code {
			t.Errorf("kind %v: %d %s, want %d %s", e.Kind, s, code, e.Status, e.Code)
		}
	}
	if s, code := statusOf(fmt.Errorf("write: %w", syscall.ENOSPC)); s != 507 || code != "disk_full" {
		t.Errorf("disk full: %d %s", s, code)
	}
}
