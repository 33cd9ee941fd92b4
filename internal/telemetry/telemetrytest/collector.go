// Package telemetrytest runs an in-process OTLP/HTTP trace collector on
// loopback for tests: it decodes each export request (protobuf, gzip or
// not) and keeps the spans, the service names and the request headers.
package telemetrytest

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, flattened.
type Span struct {
	Name         string
	TraceID      string // hex
	SpanID       string // hex
	ParentSpanID string // hex, "" for a root span
	ServiceName  string
	Attributes   map[string]string
}

// Collector is a test OTLP/HTTP endpoint.
type Collector struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests int
	headers  []http.Header
	spans    []Span
	changed  chan struct{}
}

// NewCollector starts a collector that stops when the test ends.
func NewCollector(t testing.TB) *Collector {
	c := &Collector{changed: make(chan struct{}, 1)}
	c.srv = httptest.NewServer(http.HandlerFunc(c.export))
	t.Cleanup(c.srv.Close)
	return c
}

// URL is the collector's base URL (http://127.0.0.1:PORT); spans go to
// URL + "/v1/traces".
func (c *Collector) URL() string { return c.srv.URL }

func (c *Collector) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, "not an OTLP export request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		svc := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				svc = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s := Span{Name: sp.GetName(), TraceID: hexOf(sp.GetTraceId()), SpanID: hexOf(sp.GetSpanId()),
					ParentSpanID: hexOf(sp.GetParentSpanId()), ServiceName: svc, Attributes: map[string]string{}}
				for _, kv := range sp.GetAttributes() {
					v := kv.GetValue()
					switch {
					case v.GetStringValue() != "":
						s.Attributes[kv.GetKey()] = v.GetStringValue()
					default:
						s.Attributes[kv.GetKey()] = v.String()
					}
				}
				got = append(got, s)
			}
		}
	}
	c.mu.Lock()
	c.requests++
	c.headers = append(c.headers, r.Header.Clone())
	c.spans = append(c.spans, got...)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	allZero := true
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		if c != 0 {
			allZero = false
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	if allZero {
		return ""
	}
	return string(out)
}

// Requests is how many export requests arrived.
func (c *Collector) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// Headers returns the headers of each export request.
func (c *Collector) Headers() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]http.Header(nil), c.headers...)
}

// Spans returns every span received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// WaitFor waits until ok holds for the spans received, or ctx ends; it
// returns the spans either way.
func (c *Collector) WaitFor(ctx context.Context, ok func([]Span) bool) []Span {
	for {
		spans := c.Spans()
		if ok(spans) {
			return spans
		}
		select {
		case <-ctx.Done():
			return spans
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}
