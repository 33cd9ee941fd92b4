package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the prev_hash of the first event of a chain.
var GenesisHash = strings.Repeat("0", 64)

// chained is what the chain hashes: the event with its sequence number.
type chained struct {
	Seq int64 `json:"seq"`
	Event
}

// canonical re-encodes a JSON document canonically: object keys sorted,
// no insignificant white space, numbers exactly as written, no HTML
// escaping. Two documents with the same content have the same canonical
// bytes, so white-space edits to an export do not matter but content
// edits do.
func canonical(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// linkHash is hex SHA-256(prevHash || body): the hash of one chain link.
func linkHash(prevHash string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// AnchorAction is the action of the event that starts the keyed part of
// a chain written before links were keyed ("chain keyed from seq N").
const AnchorAction = "audit.chain.keyed"

// linkMAC is hex HMAC-SHA256(key, "dockyard-audit-link-v2\n" || seq || "\n" || hash):
// the keyed seal of one link. hash already covers prev_hash and the body,
// so a MAC on every link chains them under the key.
func linkMAC(key []byte, seq int64, hash string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("dockyard-audit-link-v2\n"))
	m.Write([]byte(strconv.FormatInt(seq, 10)))
	m.Write([]byte("\n"))
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

// macOK compares a stored MAC with the one key gives, in constant time.
func macOK(key []byte, seq int64, hash, mac string) bool {
	return hmac.Equal([]byte(linkMAC(key, seq, hash)), []byte(mac))
}

// encodeBody returns the canonical body of event e at seq.
func encodeBody(seq int64, e Event) ([]byte, error) {
	b, err := json.Marshal(chained{Seq: seq, Event: e})
	if err != nil {
		return nil, fmt.Errorf("audit: encode event: %w", err)
	}
	return canonical(b)
}

// decodeBody reads a canonical body back (numbers kept as written).
func decodeBody(body []byte) (chained, error) {
	var c chained
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&c)
	return c, err
}

// FormatLine renders an event as the key=value text of its searchable copy
// in index _internal:
//
//	action=model.fit user=alice object=app:MyModel app=search result=success src=10.0.0.5 request_id=r1 message="..." <details, sorted> seq=17
//
// Empty fields are left out; values with spaces, quotes, '=', ',' or ';'
// are double-quoted.
func FormatLine(seq int64, e Event) string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteValue(v))
	}
	for _, kv := range [][2]string{{"action", e.Action}, {"user", e.User}, {"object", e.Object}, {"app", e.App},
		{"result", e.Result}, {"src", e.Source}, {"request_id", e.RequestID}, {"message", e.Message}} {
		if kv[1] != "" {
			add(kv[0], kv[1])
		}
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, detailText(e.Details[k]))
	}
	if seq > 0 {
		add("seq", strconv.FormatInt(seq, 10))
	}
	return b.String()
}

func detailText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\r\n\"=,;\\") {
		return strconv.Quote(v)
	}
	return v
}

// FitInfo describes a fit for FitEvent.
type FitInfo struct {
	User string
	App  string // the app context of the search
	Into string // the target as written: "app:NAME" (shared in the app) or "NAME" (private)
	Algo string // the notebook
	// NotebookDigest is the content the fit ran (sha256:...).
	NotebookDigest string
	Container      string
	Image          string
	Version        int // the model version the fit registered (0 if none)
	Rows           int64
	Result         string // ResultSuccess if empty
	Source         string // remote address
	RequestID      string
	Message        string
	Time           time.Time
}

// FitEvent returns the audit event of a fit. Its text in index _internal
// contains "mltk-container" and "into=<Into>", so that the search
// index=_internal "mltk-container" "into=app:NAME" finds it.
func FitEvent(f FitInfo) Event {
	d := map[string]any{"component": "mltk-container", "into": f.Into, "algo": f.Algo}
	if f.Container != "" {
		d["container"] = f.Container
	}
	if f.Image != "" {
		d["image"] = f.Image
	}
	if f.NotebookDigest != "" {
		d["notebook_digest"] = f.NotebookDigest
	}
	if f.Version > 0 {
		d["version"] = f.Version
	}
	if f.Rows > 0 {
		d["rows"] = f.Rows
	}
	res := f.Result
	if res == "" {
		res = ResultSuccess
	}
	return Event{Time: f.Time, User: f.User, Action: "model.fit", Object: f.Into, App: f.App, Result: res,
		Source: f.Source, RequestID: f.RequestID, Message: f.Message, Details: d}
}
