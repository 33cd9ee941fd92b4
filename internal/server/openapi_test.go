package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	v3high "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/server/servertest"
	"github.com/dockyard/dockyard/internal/wire"
)

// TestOpenAPICoversEveryRoute fails naming each route of a full server
// that the OpenAPI description does not describe, and each description
// entry no route has.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	h := servertest.Start(t)
	routes := h.Srv.Routes()
	_, problems := api.OpenAPI(routes, "test")
	for _, p := range problems {
		t.Error(p)
	}
	// The served description has every route.
	c := newOpenAPIChecker(t, h)
	for _, rt := range routes {
		if rt.Page {
			continue // the web console's pages answer HTML, not the API
		}
		// A {name...} wildcard is {name} in OpenAPI (api.openapiPath).
		item := c.doc.Model.Paths.PathItems.GetOrZero(strings.ReplaceAll(rt.Pattern, "...}", "}"))
		if item == nil || item.GetOperations().GetOrZero(strings.ToLower(rt.Method)) == nil {
			t.Errorf("the served description lacks %s %s", rt.Method, rt.Pattern)
		}
	}
}

// openAPIChecker sends requests to a real server and validates each
// request and its answer against the description the server serves.
type openAPIChecker struct {
	t    *testing.T
	base string
	hc   *http.Client
	v    validator.Validator
	doc  *libopenapi.DocumentModel[v3high.Document]
}

func newOpenAPIChecker(t *testing.T, h *servertest.Harness) *openAPIChecker {
	t.Helper()
	// The raw client's HTTP client trusts the server's CA.
	c := &openAPIChecker{t: t, base: h.Srv.URL(), hc: newRawClient(t, h, "").http}
	resp, err := c.hc.Get(c.base + api.OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", api.OpenAPIPath, resp.StatusCode, b)
	}
	d, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		t.Fatalf("the served description: %v", err)
	}
	c.doc = m
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("the served description is not valid OpenAPI 3.1: %s: %s", e.Message, e.Reason)
		}
	}
	c.v = v
	return c
}

func (c *openAPIChecker) request(token, method, path string, body []byte, ctype string) *http.Request {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Dockyard-Protocol", wire.ProtocolVersion)
	return req
}

// send sends the request, checks the status and validates the request
// (valid: it must pass, else it must fail) and the answer against the
// description; it returns the answer's body.
func (c *openAPIChecker) send(valid bool, token, method, path string, body []byte, ctype string, want int) []byte {
	c.t.Helper()
	resp, err := c.hc.Do(c.request(token, method, path, body, ctype))
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode != want {
		c.t.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, want, b)
	}
	req := c.request(token, method, path, body, ctype)
	if valid {
		ok, errs := c.v.ValidateHttpRequest(req)
		c.report(method, path, "request", ok, errs)
	} else if ok, _ := c.v.ValidateHttpRequest(req); ok {
		c.t.Errorf("%s %s: the request passed validation, but the description should refuse it", method, path)
	}
	// NDJSON: every line is one value of the described schema.
	parts := [][]byte{b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		parts = bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	}
	for _, part := range parts {
		resp.Body = io.NopCloser(bytes.NewReader(part))
		resp.Request = c.request(token, method, path, body, ctype)
		ok, errs := c.v.ValidateHttpResponse(resp.Request, resp)
		c.report(method, path, fmt.Sprintf("answer (%d)", resp.StatusCode), ok, errs)
	}
	return b
}

func (c *openAPIChecker) report(method, path, what string, ok bool, errs []*liberrors.ValidationError) {
	c.t.Helper()
	if ok {
		return
	}
	for _, e := range errs {
		c.t.Errorf("%s %s: the %s does not match the description: %s: %s", method, path, what, e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			c.t.Errorf("  at %s: %s", se.FieldPath, se.Reason)
		}
	}
}

// do sends a valid request (see send).
func (c *openAPIChecker) do(token, method, path string, body []byte, ctype string, want int) []byte {
	c.t.Helper()
	return c.send(true, token, method, path, body, ctype, want)
}

// bad sends a request the description refuses, to see the answer match.
func (c *openAPIChecker) bad(token, method, path string, body []byte, ctype string, want int) []byte {
	c.t.Helper()
	return c.send(false, token, method, path, body, ctype, want)
}

// TestOpenAPIMatchesServer drives a real server through a sample of
// requests, successes and failures, and validates each request and answer
// against the description the server serves.
func TestOpenAPIMatchesServer(t *testing.T) {
	ctx := context.Background()
	h := servertest.Start(t)
	c := newOpenAPIChecker(t, h)
	const js = "application/json"
	admin, err := h.Srv.AdminToken(ctx, "openapi-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	alice := h.User("alice", access.RoleUser, access.RolePower)
	h.User("bob", access.RoleUser)
	var bob wire.LoginResponse
	if err := json.Unmarshal(c.do("", "POST", "/v1/login", []byte(`{"user":"bob","password":"`+servertest.UserPassword+`"}`), js, 200), &bob); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.ImportModelDir(ctx, "churn", modelDir(t, map[string]string{"model.pkl": "weights-1"}), "sklearn"); err != nil {
		t.Fatal(err)
	}

	c.do("", "GET", "/healthz", nil, "", 200)
	c.do("", "GET", api.OpenAPIPath, nil, "", 200)

	// Access.
	var login wire.LoginResponse
	b := c.do("", "POST", "/v1/login", []byte(`{"user":"alice","password":"`+servertest.UserPassword+`"}`), js, 200)
	if err := json.Unmarshal(b, &login); err != nil || login.Token == "" {
		t.Fatalf("login: %s, %v", b, err)
	}
	tok := login.Token
	b = c.do("", "POST", "/v1/login", []byte(`{"user":"bob","password":"wrong-password"}`), js, 401)
	var e wire.Error
	if json.Unmarshal(b, &e) != nil || e.Code != "unauthenticated" {
		t.Errorf("bad login: %s", b)
	}
	c.bad("", "POST", "/v1/login", nil, "", 400)
	c.bad("", "GET", "/v1/whoami", nil, "", 401)
	c.do(tok, "GET", "/v1/whoami", nil, "", 200)

	// A sample of every domain, successes and refusals.
	for _, r := range []struct {
		token, method, path, body, ctype string
		want                             int
	}{
		{admin, "GET", "/v1/users", "", "", 200},
		{bob.Token, "GET", "/v1/users", "", "", 403},
		{admin, "POST", "/v1/users", `{"name":"carol","password":"carol-long-password-1","roles":["user"]}`, js, 201},
		{admin, "PATCH", "/v1/users/carol", `{"default_app":"search"}`, js, 200},
		{admin, "GET", "/v1/roles", "", "", 200},
		{tok, "POST", "/v1/tokens", `{"name":"ci","expires":"24h"}`, js, 201},
		{tok, "GET", "/v1/tokens", "", "", 200},
		{tok, "GET", "/v1/apps", "", "", 200},
		{tok, "GET", "/v1/apps/search", "", "", 200},
		{tok, "GET", "/v1/apps/no-such-app", "", "", 404},
		{tok, "GET", "/v1/indexes", "", "", 200},
		// Models.
		{tok, "GET", "/v1/models", "", "", 200},
		{tok, "GET", "/v1/models?limit=1", "", "", 200},
		{tok, "GET", "/v1/models/churn", "", "", 200},
		{tok, "GET", "/v1/models/churn/versions", "", "", 200},
		{tok, "GET", "/v1/models/churn/history", "", "", 200},
		{tok, "GET", "/v1/models/no-such-model", "", "", 404},
		{tok, "PATCH", "/v1/models/churn", `{"description":"churn model","tags":["demo"]}`, js, 200},
		{tok, "POST", "/v1/models/churn/aliases", `{"alias":"production","version":1}`, js, 200},
		// Notebooks and lookups.
		{tok, "PUT", "/v1/notebooks/nb?format=py", "print(1)\n", "application/octet-stream", 200},
		{tok, "GET", "/v1/notebooks", "", "", 200},
		{tok, "GET", "/v1/notebooks/nb/content", "", "", 200},
		{tok, "GET", "/v1/notebooks/nb/history", "", "", 200},
		{tok, "POST", "/v1/lookups?name=codes.csv", "code,label\n1,one\n", "text/csv", 200},
		{tok, "GET", "/v1/lookups", "", "", 200},
		{tok, "GET", "/v1/lookups/codes.csv/info", "", "", 200},
		{tok, "GET", "/v1/lookups/codes.csv", "", "", 200},
		// Containers, settings, audit, storage.
		{admin, "GET", "/v1/containers", "", "", 200},
		{bob.Token, "GET", "/v1/containers", "", "", 403},
		{admin, "GET", "/v1/images", "", "", 200},
		{admin, "GET", "/v1/settings/observability", "", "", 200},
		{admin, "GET", "/v1/hec/tokens", "", "", 200},
		{admin, "GET", "/v1/audit/verify", "", "", 200},
		{admin, "GET", "/v1/audit/key", "", "", 200},
		{admin, "POST", "/v1/admin/gc", "", "", 200},
		{admin, "GET", "/metrics", "", "", 200},
	} {
		var body []byte
		if r.body != "" {
			body = []byte(r.body)
		}
		c.do(r.token, r.method, r.path, body, r.ctype, r.want)
	}

	archive := c.do(tok, "GET", "/v1/models/churn/export", nil, "", 200)
	c.do(tok, "POST", "/v1/models/copy/versions?source=archive", archive, "application/x-tar", 201)
	c.do(tok, "DELETE", "/v1/models/copy", nil, "", 204)

	// Search: NDJSON frames, and a syntax error before any frame.
	b = c.do(tok, "POST", "/v1/search", []byte(`{"search":"| makeresults count=3 | eval x=1"}`), js, 200)
	sc := bufio.NewScanner(bytes.NewReader(b))
	var rows int
	var done bool
	for sc.Scan() {
		var f wire.SearchFrame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("search frame %q: %v", sc.Text(), err)
		}
		if f.Row != nil {
			rows++
		}
		done = done || f.Done != nil
	}
	if rows != 3 || !done {
		t.Errorf("search: %d rows, done %v: %s", rows, done, b)
	}
	c.do(tok, "POST", "/v1/search", []byte(`{"search":"| makeresults count="}`), js, 400)

	// The description refuses a body with a field the server does not
	// know (the server refuses it too).
	c.bad(admin, "POST", "/v1/roles", []byte(`{"name":"x","capabilites":["search"]}`), js, 400)

	// An answer that breaks the description fails its validation.
	fake := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {js}},
		Body: io.NopCloser(strings.NewReader(`{"user":5,"roles":"admin"}`)), Request: c.request(tok, "GET", "/v1/whoami", nil, "")}
	if ok, _ := c.v.ValidateHttpResponse(fake.Request, fake); ok {
		t.Error("a whoami answer with a number for its user passed validation")
	}

	// An unknown endpoint answers the error shape too.
	resp, err := c.hc.Do(c.request(tok, "GET", "/v1/no-such-endpoint", nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 404 || e.Code != "not_found" {
		t.Errorf("unknown endpoint: %d %+v %v", resp.StatusCode, e, err)
	}
}
