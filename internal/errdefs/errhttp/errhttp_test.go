package errhttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestTable: every kind has a row, and no status or code means two kinds.
func TestTable(t *testing.T) {
	byStatus, byCode := map[int]error{}, map[string]error{}
	for _, e := range Table {
		if k, ok := byStatus[e.Status]; ok {
			t.Errorf("status %d is both %v and %v", e.Status, k, e.Kind)
		}
		if k, ok := byCode[e.Code]; ok {
			t.Errorf("code %q is both %v and %v", e.Code, k, e.Kind)
		}
		byStatus[e.Status], byCode[e.Code] = e.Kind, e.Kind
		if e.Status < 400 || e.Status > 599 || e.Code == "" {
			t.Errorf("row %+v: not an error status or no code", e)
		}
	}
	for _, k := range errdefs.Kinds {
		if Of(errdefs.New(k, "x")).Kind != k {
			t.Errorf("kind %v has no row", k)
		}
	}
}

func TestStatus(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{errdefs.NotFound("x"), 404, "not_found"},
		{fmt.Errorf("model: %w", errdefs.ErrNotFound), 404, "not_found"},
		{errdefs.Conflict("x"), 409, "conflict"},
		{errdefs.Invalid("x"), 400, "invalid"},
		{errdefs.Unauthenticated("x"), 401, "unauthenticated"},
		{errdefs.PermissionDenied("x"), 403, "permission_denied"},
		{errdefs.Limit("x"), 429, "limit"},
		{errdefs.Unavailable("x"), 503, "unavailable"},
		{errdefs.Internal("x"), 500, "internal"},
		{errors.New("no kind"), 500, "internal"},
		// The outermost kind decides.
		{errdefs.Invalidf("bad meta: %w", errdefs.NotFound("model M")), 400, "invalid"},
		{errdefs.NotFoundf("x: %w", errdefs.Limit("y")), 404, "not_found"},
		// A body over its limit.
		{&http.MaxBytesError{Limit: 10}, 413, "too_large"},
		{fmt.Errorf("decoding: %w", &http.MaxBytesError{Limit: 10}), 413, "too_large"},
		{errdefs.Wrap(errdefs.ErrLimit, &http.MaxBytesError{Limit: 10}, "too big"), 413, "too_large"},
		{errdefs.Invalidf("bad body: %w", &http.MaxBytesError{Limit: 10}), 400, "invalid"},
	}
	for _, c := range cases {
		s, code := Status(c.err)
		if s != c.status || code != c.code {
			t.Errorf("Status(%v) = %d %s, want %d %s", c.err, s, code, c.status, c.code)
		}
	}
}

// TestDecode: every row reads back to its kind, by status, by code and by
// both; statuses outside the table read as each protocol says.
func TestDecode(t *testing.T) {
	for _, p := range []Protocol{API, Agent} {
		for _, e := range Table {
			want := e.Kind
			if want == errdefs.ErrInternal {
				want = p.Internal
			}
			for _, in := range []struct {
				status int
				code   string
			}{{e.Status, e.Code}, {e.Status, ""}, {0, e.Code}, {e.Status, "some_new_code"}} {
				err := p.Decode(in.status, in.code, "the message")
				if errdefs.Kind(err) != want || err.Error() != "the message" {
					t.Errorf("%s: Decode(%d, %q) = %v of kind %v, want kind %v", p.Name, in.status, in.code, err, errdefs.Kind(err), want)
				}
			}
		}
		// A code that disagrees with the status: the status decides.
		if k := p.Kind(404, "conflict"); k != errdefs.ErrNotFound {
			t.Errorf("%s: Kind(404, conflict) = %v", p.Name, k)
		}
		for status, want := range map[int]error{405: p.Other4xx, 418: p.Other4xx, 502: p.Other5xx, 504: p.Other5xx, 302: p.Other5xx} {
			if k := p.Kind(status, ""); k != want {
				t.Errorf("%s: Kind(%d) = %v, want %v", p.Name, status, k, want)
			}
		}
		if k := p.Kind(0, "what"); k != p.Internal {
			t.Errorf("%s: an unknown code without a status = %v, want %v", p.Name, k, p.Internal)
		}
	}
	if API.Kind(500, "internal") != errdefs.ErrInternal || Agent.Kind(500, "") != errdefs.ErrUnavailable {
		t.Error("an internal answer: the API's client must read Internal, the agent's client Unavailable")
	}
	if API.Kind(405, "") != errdefs.ErrInvalid || API.Kind(502, "") != errdefs.ErrUnavailable {
		t.Error("unknown statuses: 4xx must read Invalid, 5xx Unavailable")
	}
}

// TestMaxBytesReader: a real body over a real limit answers 413.
func TestMaxBytesReader(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4))
		s, code := Status(fmt.Errorf("reading: %w", err))
		http.Error(w, code, s)
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("more than four")))
	if rec.Code != 413 || strings.TrimSpace(rec.Body.String()) != "too_large" {
		t.Errorf("answer = %d %q, want 413 too_large", rec.Code, rec.Body.String())
	}
}
