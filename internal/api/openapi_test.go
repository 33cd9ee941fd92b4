package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// domainRoutes lists the routes of the API and of every domain API the
// server mounts (their handlers are never called here). The server's own
// test (internal/server TestOpenAPICoversEveryRoute) checks the routes of
// a real server.
func domainRoutes() []Route {
	a := &API{Log: slog.New(slog.DiscardHandler)}
	var rs []Route
	for _, d := range [][]Route{
		(&ModelsAPI{API: a}).Routes(), (&NotebooksAPI{API: a}).Routes(), (&ContainersAPI{API: a}).Routes(),
		(&EventsAPI{API: a}).Routes(), (&ImagesAPI{API: a}).Routes(), (&AdminAPI{API: a}).Routes(),
		(&SearchAPI{API: a}).Routes(), (&LookupsAPI{API: a}).Routes(), (&TelemetryAPI{API: a}).Routes(),
		(&RegistriesAPI{API: a}).Routes(), (&GPUAPI{API: a}).Routes(), (&JupyterAPI{API: a}).Routes(),
		(&ImageArchiveAPI{API: a}).Routes(), (&ModelKeysAPI{API: a}).Routes(),
	} {
		a.Extra = append(a.Extra, d...)
	}
	rs = append(rs, a.Routes()...)
	return rs
}

// openAPIErrors parses doc with libopenapi and validates it against the
// OpenAPI 3.1 schema, and lists what is wrong.
func openAPIErrors(doc []byte) []string {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return []string{"libopenapi cannot read the description: " + err.Error()}
	}
	if _, err := d.BuildV3Model(); err != nil {
		return []string{"building the OpenAPI model: " + err.Error()}
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return []string{fmt.Sprint("validator: ", errs)}
	}
	var out []string
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			out = append(out, e.Message+": "+e.Reason)
			for _, se := range e.SchemaValidationErrors {
				out = append(out, fmt.Sprintf("  at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason))
			}
		}
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, problems := OpenAPI(domainRoutes(), "test")
	for _, p := range problems {
		t.Error(p)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range openAPIErrors(b) {
		t.Error(e)
	}
	// The validator finds a broken description.
	doc["paths"].(map[string]map[string]any)["/healthz"]["get"].(map[string]any)["responses"] = "none"
	b, _ = json.Marshal(doc)
	if errs := openAPIErrors(b); len(errs) == 0 {
		t.Error("a description whose responses are a string passed validation")
	}
}

func TestOpenAPIRouteWithoutSpecIsAProblem(t *testing.T) {
	rs := append(domainRoutes(), Route{Method: "GET", Pattern: "/v1/nothing/{x}", Cap: Authenticated, Action: "nothing.show"})
	doc, problems := OpenAPI(rs, "test")
	if !containsSubstring(problems, "GET /v1/nothing/{x} has no entry in openapiSpecs") {
		t.Errorf("problems %q do not name the route without a spec", problems)
	}
	// Still described, with its path parameter and security.
	op := doc["paths"].(map[string]map[string]any)["/v1/nothing/{x}"]["get"].(map[string]any)
	if op["operationId"] != "nothing.show" || op["x-dockyard-capability"] != string(Authenticated) {
		t.Errorf("operation %v", op)
	}
	// An entry without a route is named too.
	_, problems = OpenAPI(domainRoutes()[1:], "test")
	if !containsSubstring(problems, "entry for GET /healthz, which is not a route") {
		t.Errorf("problems %q do not name the entry without a route", problems)
	}
}

func containsSubstring(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

type schemaInner struct {
	Depth int `json:"depth"`
}

type schemaOuter struct {
	schemaInner
	Name     string            `json:"name"`
	Note     string            `json:"note,omitempty"`
	When     time.Time         `json:"when"`
	Maybe    *string           `json:"maybe,omitempty"`
	Started  *time.Time        `json:"started"`
	Raw      []byte            `json:"raw"`
	List     []string          `json:"list"`
	Opt      []string          `json:"opt,omitempty"`
	Labels   map[string]int    `json:"labels"`
	Any      map[string]any    `json:"any,omitempty"`
	Count    int64             `json:"count,string"`
	Skip     string            `json:"-"`
	hidden   string            //lint:ignore U1000 an unexported field, there to show it never reaches the schema
	Inner    *schemaInner      `json:"inner"`
	Children []schemaInner     `json:"children,omitempty"`
	ByName   map[string]string `json:"by_name,omitzero"`
	NoTag    bool
}

func TestSchemaFromTypes(t *testing.T) {
	g := newSchemaGen()
	s := g.schema(reflect.TypeOf(schemaOuter{}))
	if s["$ref"] != "#/components/schemas/schemaOuter" {
		t.Fatalf("a named struct is a $ref: %v", s)
	}
	got, _ := json.Marshal(g.defs["schemaOuter"])
	var m map[string]any
	json.Unmarshal(got, &m)
	props := m["properties"].(map[string]any)
	want := map[string]string{
		"depth":    `{"format":"int64","type":"integer"}`,
		"name":     `{"type":"string"}`,
		"note":     `{"type":"string"}`,
		"when":     `{"format":"date-time","type":"string"}`,
		"maybe":    `{"type":["string","null"]}`,
		"started":  `{"format":"date-time","type":["string","null"]}`,
		"raw":      `{"contentEncoding":"base64","type":"string"}`,
		"list":     `{"items":{"type":"string"},"type":["array","null"]}`,
		"opt":      `{"items":{"type":"string"},"type":"array"}`,
		"labels":   `{"additionalProperties":{"format":"int64","type":"integer"},"type":["object","null"]}`,
		"any":      `{"additionalProperties":{},"type":"object"}`,
		"count":    `{"type":"string"}`,
		"inner":    `{"anyOf":[{"$ref":"#/components/schemas/schemaInner"},{"type":"null"}]}`,
		"children": `{"items":{"$ref":"#/components/schemas/schemaInner"},"type":"array"}`,
		"by_name":  `{"additionalProperties":{"type":"string"},"type":"object"}`,
		"NoTag":    `{"type":"boolean"}`,
	}
	for k, w := range want {
		b, _ := json.Marshal(props[k])
		if string(b) != w {
			t.Errorf("%s: %s, want %s", k, b, w)
		}
	}
	if len(props) != len(want) {
		t.Errorf("properties %v, want exactly %d", reflect.ValueOf(props).MapKeys(), len(want))
	}
	req, _ := json.Marshal(m["required"])
	if string(req) != `["NoTag","count","depth","inner","labels","list","name","raw","started","when"]` {
		t.Errorf("required %s", req)
	}
	if _, ok := m["additionalProperties"]; ok {
		t.Errorf("an answer's type must allow fields added later: %s", got)
	}
	// A request body's type refuses unknown fields, as decode does.
	g = newSchemaGen()
	g.strict[reflect.TypeOf(schemaInner{})] = true
	g.schema(reflect.TypeOf(schemaInner{}))
	if in := g.defs["schemaInner"].(map[string]any); in["additionalProperties"] != false || in["required"] != nil {
		t.Errorf("request type: %v", g.defs["schemaInner"])
	}
	// A type that encodes itself without an override is a problem.
	g.schema(reflect.TypeOf(struct{ T json.Number }{}))
	g.schema(reflect.TypeOf(struct{ R selfEncoded }{}))
	if len(g.problems) != 1 || !strings.Contains(g.problems[0], "selfEncoded") {
		t.Errorf("problems %q", g.problems)
	}
}

// selfEncoded writes its own JSON and has no schema override.
type selfEncoded struct{}

func (selfEncoded) MarshalJSON() ([]byte, error) { return []byte(`"x"`), nil }

func TestOpenAPIServed(t *testing.T) {
	a := &API{Log: slog.New(slog.DiscardHandler), Version: "1.2.3"}
	for _, d := range [][]Route{(&ModelsAPI{API: a}).Routes(), (&SearchAPI{API: a}).Routes()} {
		a.Extra = append(a.Extra, d...)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func() []byte {
		resp, err := http.Get(srv.URL + OpenAPIPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		return b
	}
	b := get()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Version != "1.2.3" {
		t.Errorf("openapi %q version %q", doc.OpenAPI, doc.Info.Version)
	}
	if doc.Paths["/v1/search"]["post"].OperationID != "search" || doc.Paths[OpenAPIPath]["get"].OperationID != "openapi" {
		t.Errorf("paths %v", doc.Paths)
	}
	// Built once: the same bytes again.
	if string(get()) != string(b) {
		t.Error("a second request got another description")
	}
}
