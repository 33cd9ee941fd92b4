package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/wire"
)

// OpenAPIPath is where the server serves its OpenAPI description.
const OpenAPIPath = "/v1/openapi.json"

// openapiCache holds the description once it was built: the routes do not
// change after the server starts.
type openapiCache struct {
	once sync.Once
	doc  []byte
	err  error
}

// serveOpenAPI answers the OpenAPI 3.1 description of every route.
func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	a.openapi.once.Do(func() {
		doc, problems := OpenAPI(a.Routes(), a.version())
		for _, p := range problems {
			// The coverage test keeps this empty; a route it missed is
			// still served, described without its shapes.
			a.Log.Warn("OpenAPI description incomplete", "problem", p)
		}
		a.openapi.doc, a.openapi.err = json.MarshalIndent(doc, "", "  ")
	})
	if a.openapi.err != nil {
		return fmt.Errorf("building the OpenAPI description: %w", a.openapi.err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(a.openapi.doc)
	return err
}

// version is the server's version for the description: Version when the
// server set it, else the main module's version from the build.
func (a *API) version() string {
	if a.Version != "" {
		return a.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// OpenAPI describes rs as an OpenAPI 3.1 document (JSON Schema 2020-12
// schemas made from the wire types by reflection; see openapiSpecs for what
// each route takes and answers). problems names each route the spec table
// does not describe, each entry of the table no route has, and each type
// the schema generator cannot describe; such a route is still in the
// document, with the shapes it could not give left open.
func OpenAPI(rs []Route, version string) (doc map[string]any, problems []string) {
	rs = slices.DeleteFunc(slices.Clone(rs), func(rt Route) bool { return rt.Page })
	g := newSchemaGen()
	for _, rt := range rs {
		if sp, ok := openapiSpecs[rt.Method+" "+rt.Pattern]; ok && sp.Request != nil {
			g.strict[reflect.TypeOf(sp.Request)] = true
		}
	}
	paths := map[string]map[string]any{}
	seen := map[string]bool{}
	opIDs := map[string]string{}
	for _, rt := range rs {
		key := rt.Method + " " + rt.Pattern
		if seen[key] {
			problems = append(problems, "route "+key+" is registered twice")
			continue
		}
		seen[key] = true
		sp, ok := openapiSpecs[key]
		if !ok {
			problems = append(problems, "route "+key+" has no entry in openapiSpecs (internal/api/openapi_types.go): add one with its summary, request and response")
		}
		op := g.operation(rt, sp)
		id, _ := op["operationId"].(string)
		if other, dup := opIDs[id]; dup {
			problems = append(problems, fmt.Sprintf("operationId %q of %s is also that of %s", id, key, other))
		}
		opIDs[id] = key
		path := openapiPath(rt.Pattern)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.Method)] = op
	}
	for key := range openapiSpecs {
		if !seen[key] {
			problems = append(problems, "openapiSpecs has an entry for "+key+", which is not a route: remove or correct it")
		}
	}
	problems = append(problems, g.problems...)
	sort.Strings(problems)

	g.schema(reflect.TypeOf(wire.Error{}))
	doc = map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": map[string]any{
			"title":   "Dockyard API",
			"version": version,
			"description": "The HTTP API of the Dockyard server. Every route but the public ones needs a bearer token " +
				"(`dockyard login`, or an API token); the capability a route needs is in its description and in " +
				"`x-dockyard-capability`. Every failure answers the Error object with the matching status. " +
				"Requests may name the app they work in with the Dockyard-App header. Made from the server's route " +
				"table and wire types; the HTTP Event Collector (/services/collector) follows Splunk's HEC protocol " +
				"and is not described here.",
		},
		"tags":    openapiTags(rs),
		"paths":   paths,
		"servers": []any{map[string]any{"url": "/"}},
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A session token from POST /v1/login or an API token from POST /v1/tokens."},
			},
			"parameters": map[string]any{
				"App": map[string]any{"name": "Dockyard-App", "in": "header", "required": false,
					"description": "The app the request works in; default: the user's default app.",
					"schema":      map[string]any{"type": "string"}},
			},
			"responses": map[string]any{
				"Error": map[string]any{
					"description": "The request failed; code names the kind of failure and request_id finds it in the server log.",
					"content":     jsonContent(ref("Error")),
				},
				"Unauthenticated": map[string]any{
					"description": "No token, or one that is not valid (any more): log in again.",
					"headers": map[string]any{"WWW-Authenticate": map[string]any{
						"schema": map[string]any{"type": "string"}, "description": `Bearer realm="dockyard"`}},
					"content": jsonContent(ref("Error")),
				},
			},
		},
		"security": []any{map[string]any{"bearerAuth": []any{}}},
	}
	return doc, problems
}

// openapiPath is a ServeMux pattern as an OpenAPI path: {name...}
// wildcards become {name}.
func openapiPath(pattern string) string {
	return strings.ReplaceAll(pattern, "...}", "}")
}

// pathParams are the names of the {wildcards} of pattern, in order.
func pathParams(pattern string) []string {
	var out []string
	for s := pattern; ; {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSuffix(s[i+1:i+j], "...")
		if name != "$" {
			out = append(out, name)
		}
		s = s[i+j+1:]
	}
}

// openapiTag is the domain a route belongs to, from its path.
func openapiTag(pattern string) string {
	seg := strings.TrimPrefix(pattern, "/v1")
	seg = strings.TrimPrefix(seg, "/")
	seg, _, _ = strings.Cut(seg, "/")
	switch seg {
	case "login", "logout", "whoami", "users", "roles", "tokens":
		return "access"
	case "healthz", "openapi.json":
		return "system"
	case "metrics", "settings":
		return "telemetry"
	case "hec", "indexes":
		return "events"
	case "gpus", "gpu":
		return "gpus"
	}
	return seg
}

var openapiTagText = map[string]string{
	"access":     "Logging in, users, roles and API tokens.",
	"admin":      "Storage upkeep: garbage collection and backups.",
	"apps":       "Apps: who may use them and share objects into them.",
	"audit":      "The hash-chained audit trail.",
	"containers": "ML containers: start, stop, logs, sharing, external registration.",
	"events":     "Event indexes and HTTP Event Collector tokens.",
	"gpus":       "GPUs: the runtimes' inventory, who holds what, and quotas.",
	"images":     "The container image catalogue.",
	"lookups":    "CSV lookup tables.",
	"models":     "The model registry: versions, aliases, sharing, import and export.",
	"notebooks":  "Notebooks: push, history, content, sharing.",
	"search":     "Searches in SPL, streamed as NDJSON.",
	"system":     "Health and this description.",
	"telemetry":  "Metrics and observability settings.",
}

func openapiTags(rs []Route) []any {
	var names []string
	for _, rt := range rs {
		if t := openapiTag(rt.Pattern); !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, n := range names {
		t := map[string]any{"name": n}
		if d := openapiTagText[n]; d != "" {
			t["description"] = d
		}
		out = append(out, t)
	}
	return out
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// capabilityText says in words what a route needs.
func capabilityText(c string) string {
	switch c {
	case string(Public):
		return "Public: needs no token."
	case string(Authenticated):
		return "Needs a token but no capability; the object's ACL decides (an object the caller may not read is not found)."
	}
	return fmt.Sprintf("Needs the capability `%s`.", c)
}

// operation describes one route.
func (g *schemaGen) operation(rt Route, sp openapiSpec) map[string]any {
	id := sp.OperationID
	if id == "" {
		id = rt.Action
	}
	if id == "" {
		id = strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.Pattern)
	}
	desc := capabilityText(string(rt.Cap))
	if sp.Description != "" {
		desc = sp.Description + "\n\n" + desc
	}
	op := map[string]any{
		"operationId":           id,
		"tags":                  []any{openapiTag(rt.Pattern)},
		"description":           desc,
		"x-dockyard-capability": string(rt.Cap),
	}
	if sp.Summary != "" {
		op["summary"] = sp.Summary
	}
	var params []any
	for _, p := range pathParams(rt.Pattern) {
		d := sp.PathText[p]
		if d == "" {
			d = "The " + p + " of the object, path-escaped."
		}
		params = append(params, map[string]any{"name": p, "in": "path", "required": true,
			"description": d, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range sp.Query {
		typ := q.Type
		if typ == "" {
			typ = "string"
		}
		s := map[string]any{"type": typ}
		if len(q.Enum) > 0 {
			s["enum"] = q.Enum
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required,
			"description": q.Text, "schema": s})
	}
	if rt.Cap != Public {
		params = append(params, map[string]any{"$ref": "#/components/parameters/App"})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.Cap == Public {
		op["security"] = []any{}
	}

	switch {
	case sp.RequestType != "":
		var s map[string]any
		if strings.Contains(sp.RequestType, "json") && sp.Request != nil {
			s = g.schema(reflect.TypeOf(sp.Request))
		} else {
			s = map[string]any{"type": "string", "contentMediaType": sp.RequestType}
		}
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{sp.RequestType: map[string]any{"schema": s}}}
	case sp.Request != nil:
		op["requestBody"] = map[string]any{"required": true, "content": jsonContent(g.schema(reflect.TypeOf(sp.Request)))}
	}

	status := sp.Status
	if status == 0 {
		status = http.StatusOK
	}
	okResp := map[string]any{"description": http.StatusText(status)}
	if sp.ResponseText != "" {
		okResp["description"] = sp.ResponseText
	}
	switch {
	case status == http.StatusNoContent:
	case sp.ResponseType != "" && sp.Response != nil:
		okResp["content"] = map[string]any{sp.ResponseType: map[string]any{"schema": g.schema(reflect.TypeOf(sp.Response))}}
	case sp.ResponseType != "":
		okResp["content"] = map[string]any{sp.ResponseType: map[string]any{"schema": map[string]any{"type": "string", "contentMediaType": sp.ResponseType}}}
	case sp.Response != nil:
		okResp["content"] = jsonContent(g.schema(reflect.TypeOf(sp.Response)))
	default:
		okResp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}
	}
	if len(sp.Headers) > 0 {
		hs := map[string]any{}
		for name, text := range sp.Headers {
			hs[name] = map[string]any{"description": text, "schema": map[string]any{"type": "string"}}
		}
		okResp["headers"] = hs
	}
	errResp := map[string]any{"$ref": "#/components/responses/Error"}
	resps := map[string]any{fmt.Sprint(status): okResp, "4XX": errResp, "5XX": errResp}
	if rt.Cap != Public {
		resps["401"] = map[string]any{"$ref": "#/components/responses/Unauthenticated"}
	}
	op["responses"] = resps
	return op
}

// schemaGen makes JSON Schema 2020-12 schemas from Go types as
// encoding/json writes and reads them. Named struct types become
// components (defs) referred to with $ref.
type schemaGen struct {
	defs     map[string]any
	names    map[reflect.Type]string
	strict   map[reflect.Type]bool // request bodies: the server refuses unknown fields
	problems []string
}

func newSchemaGen() *schemaGen {
	return &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}, strict: map[reflect.Type]bool{}}
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
)

// schemaOverrides describe types that encode themselves (MarshalJSON).
var schemaOverrides = map[reflect.Type]map[string]any{
	reflect.TypeOf(wire.Row{}): {
		"type": "object", "additionalProperties": map[string]any{"type": "string"},
		"description": "A result row: field name → value, in the order of the fields.",
	},
	reflect.TypeOf(json.RawMessage{}): {
		"description": "Any JSON value, kept as it was sent (a scan report: Trivy JSON, Grype JSON or CycloneDX).",
	},
}

// nullable lets s be null too: a type array where s has one type, else
// anyOf with null.
func nullable(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok {
		c := make(map[string]any, len(s))
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []any{t, "null"}
		return c
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// schema is the schema of values of t.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if s, ok := schemaOverrides[t]; ok {
		return s
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		g.problems = append(g.problems, fmt.Sprintf("type %s encodes itself (MarshalJSON): describe it in schemaOverrides", t))
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			g.problems = append(g.problems, fmt.Sprintf("map type %s: only string keys are described", t))
		}
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		name, ok := g.names[t]
		if !ok {
			name = t.Name()
			for other := range g.names {
				if g.names[other] == name {
					name = pkgName(t) + t.Name()
				}
			}
			g.names[t] = name
			g.defs[name] = map[string]any{} // placeholder while it is made (recursive types)
			g.defs[name] = g.structSchema(t)
		}
		return ref(name)
	}
	g.problems = append(g.problems, fmt.Sprintf("type %s (%s) cannot be described", t, t.Kind()))
	return map[string]any{}
}

func pkgName(t reflect.Type) string {
	p := t.PkgPath()
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return ""
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// jsonField is one field of a struct as encoding/json sees it.
type jsonField struct {
	name     string
	typ      reflect.Type
	optional bool // omitempty or omitzero: may be absent
	str      bool // ,string
}

// jsonFields lists the fields of t as encoding/json encodes them, with
// embedded structs without a name flattened (an outer field hides an
// embedded one of the same name).
func jsonFields(t reflect.Type) []jsonField {
	var direct []jsonField
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		o := "," + opts + ","
		direct = append(direct, jsonField{name: name, typ: ft,
			optional: strings.Contains(o, ",omitempty,") || strings.Contains(o, ",omitzero,"),
			str:      strings.Contains(o, ",string,")})
	}
	have := map[string]bool{}
	for _, f := range direct {
		have[f.name] = true
	}
	for _, et := range embedded {
		for _, f := range jsonFields(et) {
			if !have[f.name] {
				have[f.name] = true
				direct = append(direct, f)
			}
		}
	}
	return direct
}

// structSchema is the object schema of a struct type. In an answer, fields
// that are not omitempty (or omitzero) are always present; slices and maps
// among them may be null (encoding/json writes a nil one so).
func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, f := range jsonFields(t) {
		var s map[string]any
		if f.str {
			s = map[string]any{"type": "string"}
		} else {
			s = g.schema(f.typ)
		}
		if k := f.typ.Kind(); !f.optional && (k == reflect.Slice && f.typ.Elem().Kind() != reflect.Uint8 || k == reflect.Map) {
			s = nullable(s)
		}
		props[f.name] = s
		if !f.optional {
			required = append(required, f.name)
		}
	}
	sort.Strings(required)
	s := map[string]any{"type": "object", "properties": props}
	if g.strict[t] {
		// A request body: the server refuses unknown fields and reads a
		// field left out as its zero value, so none is required here (the
		// server says which ones an operation needs).
		s["additionalProperties"] = false
	} else if len(required) > 0 {
		s["required"] = required
	}
	return s
}
