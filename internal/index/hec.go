package index

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/store"
)

// HEC status codes and texts, as Splunk's HTTP Event Collector defines them.
const (
	HECSuccess          = 0
	HECTokenDisabled    = 1
	HECTokenRequired    = 2
	HECInvalidAuth      = 3
	HECInvalidToken     = 4
	HECNoData           = 5
	HECInvalidFormat    = 6
	HECIncorrectIndex   = 7
	HECInternalError    = 8
	HECServerBusy       = 9
	HECChannelMissing   = 10
	HECInvalidChannel   = 11
	HECEventRequired    = 12
	HECEventBlank       = 13
	HECAckDisabled      = 14
	HECBadIndexedFields = 15
	HECQueryStringAuth  = 16
	HECHealthy          = 17
)

// hecAnswers gives each HEC code its text and the error kind whose HTTP
// status (errhttp's table) answers it; success has no kind and is 200.
// Splunk's statuses for these codes are exactly those of the kinds.
var hecAnswers = map[int]hecAnswer{
	HECSuccess:          {nil, "Success"},
	HECTokenDisabled:    {errdefs.ErrPermissionDenied, "Token disabled"},
	HECTokenRequired:    {errdefs.ErrUnauthenticated, "Token is required"},
	HECInvalidAuth:      {errdefs.ErrUnauthenticated, "Invalid authorization"},
	HECInvalidToken:     {errdefs.ErrPermissionDenied, "Invalid token"},
	HECNoData:           {errdefs.ErrInvalid, "No data"},
	HECInvalidFormat:    {errdefs.ErrInvalid, "Invalid data format"},
	HECIncorrectIndex:   {errdefs.ErrInvalid, "Incorrect index"},
	HECInternalError:    {errdefs.ErrInternal, "Internal server error"},
	HECServerBusy:       {errdefs.ErrUnavailable, "Server is busy"},
	HECChannelMissing:   {errdefs.ErrInvalid, "Data channel is missing"},
	HECInvalidChannel:   {errdefs.ErrInvalid, "Invalid data channel"},
	HECEventRequired:    {errdefs.ErrInvalid, "Event field is required"},
	HECEventBlank:       {errdefs.ErrInvalid, "Event field cannot be blank"},
	HECAckDisabled:      {errdefs.ErrInvalid, "ACK is disabled"},
	HECBadIndexedFields: {errdefs.ErrInvalid, "Error in handling indexed fields"},
	HECQueryStringAuth:  {errdefs.ErrInvalid, "Query string authorization is not enabled"},
	HECHealthy:          {nil, "HEC is healthy"},
}

type hecAnswer struct {
	kind error // nil: success
	text string
}

// status is the HTTP status of the answer: its kind's.
func (a hecAnswer) status() int {
	if a.kind == nil {
		return http.StatusOK
	}
	s, _ := errhttp.Status(a.kind)
	return s
}

// HECReply is the JSON body of every HEC answer.
type HECReply struct {
	Text               string `json:"text"`
	Code               int    `json:"code"`
	InvalidEventNumber *int   `json:"invalid-event-number,omitempty"`
	// AckID is the acknowledgement id of a success on a token with
	// acknowledgement on.
	AckID *uint64 `json:"ackId,omitempty"`
}

// HECAckRequest is the body of POST /services/collector/ack.
type HECAckRequest struct {
	Acks []uint64 `json:"acks"`
}

// HECAckReply answers POST /services/collector/ack: each queried id (in
// decimal) and whether its events are indexed.
type HECAckReply struct {
	Acks map[string]bool `json:"acks"`
}

// HECOptions configure the collector.
type HECOptions struct {
	// MaxBodyBytes limits a request body (and, for gzip, its decompressed
	// size); larger bodies get 413. Required (> 0).
	MaxBodyBytes int64
	Logger       *slog.Logger   // nil: the service's logger
	Audit        audit.Recorder // nil: refused requests are not audited
	// AckMaxIDs is how many of its latest ack ids a channel remembers
	// (older ones answer false); AckChannelIdle is how long an unused
	// channel is kept. Both are needed by tokens with acknowledgement on:
	// while either is 0 such tokens are refused with code 8 (and an error
	// logged).
	AckMaxIDs      int
	AckChannelIdle time.Duration
}

// HEC is the HTTP Event Collector: an http.Handler for
// /services/collector/{event,raw,health,ack}[/1.0] (and /services/collector
// itself, as /event). It may be mounted with or without that prefix.
type HEC struct {
	svc  *Service
	opts HECOptions
	log  *slog.Logger
	acks *ackState // nil when AckMaxIDs or AckChannelIdle is 0
}

// NewHEC returns the collector over svc.
func NewHEC(svc *Service, opts HECOptions) (*HEC, error) {
	if opts.MaxBodyBytes <= 0 {
		return nil, errdefs.Invalid("HEC: MaxBodyBytes must be positive")
	}
	if opts.AckMaxIDs < 0 || opts.AckChannelIdle < 0 {
		return nil, errdefs.Invalid("HEC: AckMaxIDs and AckChannelIdle must not be negative")
	}
	h := &HEC{svc: svc, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = svc.log
	}
	if opts.AckMaxIDs > 0 && opts.AckChannelIdle > 0 {
		h.acks = newAckState(opts.AckMaxIDs, opts.AckChannelIdle, svc.now)
	}
	return h, nil
}

// hecError is a refusal with its HEC code.
type hecError struct {
	code   int
	event  int    // invalid-event-number, or -1
	text   string // "" for the code's text
	status int    // 0 for the code's HTTP status
}

func (e *hecError) Error() string { return hecAnswers[e.code].text }

func reply(w http.ResponseWriter, code, event int, text string, status int) {
	a := hecAnswers[code]
	if text == "" {
		text = a.text
	}
	if status == 0 {
		status = a.status()
	}
	r := HECReply{Text: text, Code: code}
	if event >= 0 {
		r.InvalidEventNumber = &event
	}
	writeHECJSON(w, status, r)
}

func writeHECJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (h *HEC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/services/collector")
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/"), "/1.0")
	switch p {
	case "", "/event", "/raw":
	case "/health":
		if err := h.healthy(r.Context()); err != nil {
			h.log.Error("HEC health check failed", "err", err)
			reply(w, HECServerBusy, -1, "", 0)
			return
		}
		reply(w, HECHealthy, -1, "", 0)
		return
	case "/ack":
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: HEC takes POST", http.StatusMethodNotAllowed)
		return
	}
	tok, herr := h.authenticate(r)
	var ack ackKey
	if herr == nil {
		ack, herr = h.ackChannel(r, tok, p == "/ack")
	}
	if herr == nil && p == "/ack" {
		h.serveAck(w, r, ack)
		return
	}
	if herr == nil {
		var evs []Event
		if p == "/raw" {
			evs, herr = h.parseRaw(r, w, tok)
		} else {
			evs, herr = h.parseEvents(r, w, tok)
		}
		if herr == nil {
			if err := h.svc.Ingest(r.Context(), evs); err != nil {
				h.log.Error("HEC ingest failed", "token", tok.Name, "events", len(evs), "err", err)
				reply(w, HECInternalError, -1, "", 0)
				return
			}
			if tok.UseAck {
				id := h.acks.issue(ack)
				writeHECJSON(w, http.StatusOK, HECReply{Text: hecAnswers[HECSuccess].text, Code: HECSuccess, AckID: &id})
				return
			}
			reply(w, HECSuccess, -1, "", 0)
			return
		}
	}
	switch herr.code {
	case HECTokenDisabled, HECTokenRequired, HECInvalidAuth, HECInvalidToken, HECIncorrectIndex, HECQueryStringAuth:
		h.auditRefusal(r, tok, herr)
	}
	reply(w, herr.code, herr.event, herr.text, herr.status)
}

func (h *HEC) healthy(ctx context.Context) error {
	_, err := h.svc.st.ListIndexes(ctx)
	return err
}

// authenticate reads "Authorization: Splunk <token>" (or HTTP Basic with
// the token as password) and returns the token.
func (h *HEC) authenticate(r *http.Request) (store.HECToken, *hecError) {
	hdr := strings.TrimSpace(r.Header.Get("Authorization"))
	if hdr == "" {
		if r.URL.Query().Has("token") {
			return store.HECToken{}, &hecError{code: HECQueryStringAuth, event: -1}
		}
		return store.HECToken{}, &hecError{code: HECTokenRequired, event: -1}
	}
	scheme, cred, _ := strings.Cut(hdr, " ")
	cred = strings.TrimSpace(cred)
	var secret string
	switch strings.ToLower(scheme) {
	case "splunk":
		secret = cred
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err == nil {
			_, secret, _ = strings.Cut(string(b), ":")
		}
	}
	if secret == "" {
		return store.HECToken{}, &hecError{code: HECInvalidAuth, event: -1}
	}
	tok, err := h.svc.authenticateHEC(r.Context(), secret)
	if errdefs.IsNotFound(err) {
		return tok, &hecError{code: HECInvalidToken, event: -1}
	}
	if err != nil {
		h.log.Error("HEC token lookup failed", "err", err)
		return tok, &hecError{code: HECInternalError, event: -1}
	}
	if tok.Disabled {
		return tok, &hecError{code: HECTokenDisabled, event: -1}
	}
	return tok, nil
}

func (h *HEC) auditRefusal(r *http.Request, tok store.HECToken, e *hecError) {
	if h.opts.Audit == nil {
		return
	}
	user := ""
	if tok.Name != "" {
		user = "hec:" + tok.Name
	}
	ev := audit.Event{User: user, Action: "hec.ingest", Object: r.URL.Path, Result: audit.ResultDenied,
		Source: remoteHost(r), RequestID: r.Header.Get("X-Request-Id"),
		Message: fmt.Sprintf("HEC code %d: %s", e.code, hecAnswers[e.code].text)}
	if err := h.opts.Audit.Record(context.WithoutCancel(r.Context()), ev); err != nil {
		h.log.Error("audit of a refused HEC request failed", "err", err)
	}
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// body returns the request body, limited and decompressed.
func (h *HEC) body(r *http.Request, w http.ResponseWriter) (io.Reader, error) {
	var b io.ReadCloser = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(b)
		if err != nil {
			if isTooLarge(err) {
				return nil, err
			}
			return nil, &hecError{code: HECInvalidFormat, event: 0, text: "Invalid data format"}
		}
		b = http.MaxBytesReader(w, gz, h.opts.MaxBodyBytes)
	}
	return b, nil
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func (h *HEC) tooLarge() *hecError {
	return &hecError{code: HECInvalidFormat, event: -1, status: http.StatusRequestEntityTooLarge,
		text: fmt.Sprintf("Content too large (maximum is %d bytes): send smaller batches", h.opts.MaxBodyBytes)}
}

// resolveIndex picks the event's index: the named one or the token's
// default; it must exist and be allowed to the token.
func (h *HEC) resolveIndex(tok store.HECToken, name string, existing map[string]bool) (string, bool) {
	if name == "" {
		name = tok.DefaultIndex
	}
	return name, existing[name] && tokenAllows(tok.Indexes, name)
}

func (h *HEC) existingIndexes(ctx context.Context) (map[string]bool, error) {
	l, err := h.svc.st.ListIndexes(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(l))
	for _, ix := range l {
		m[ix.Name] = true
	}
	return m, nil
}
