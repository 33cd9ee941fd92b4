package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// Defaults of HEC events that name none, as Splunk has them.
const hecSourcetype = "httpevent"

func (h *HEC) defaults(r *http.Request, tok store.HECToken) Event {
	return Event{Host: remoteHost(r), Source: "http:" + tok.Name, Sourcetype: hecSourcetype}
}

// parseEvents reads /event: one or more JSON objects, concatenated.
func (h *HEC) parseEvents(r *http.Request, w http.ResponseWriter, tok store.HECToken) ([]Event, *hecError) {
	body, err := h.body(r, w)
	if err != nil {
		return nil, h.asHECError(err)
	}
	existing, err := h.existingIndexes(r.Context())
	if err != nil {
		h.log.Error("HEC internal error: listing the indexes failed", "path", r.URL.Path, "token", tok.Name, "err", err)
		return nil, &hecError{code: HECInternalError, event: -1}
	}
	def := h.defaults(r, tok)
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var out []Event
	for i := 0; ; i++ {
		var m map[string]json.RawMessage
		err := dec.Decode(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			if isTooLarge(err) {
				return nil, h.tooLarge()
			}
			return nil, &hecError{code: HECInvalidFormat, event: i}
		}
		if m == nil {
			return nil, &hecError{code: HECInvalidFormat, event: i}
		}
		e, herr := parseHECEvent(m, def, i)
		if herr != nil {
			return nil, herr
		}
		ix, ok := h.resolveIndex(tok, e.Index, existing)
		if !ok {
			return nil, &hecError{code: HECIncorrectIndex, event: i}
		}
		e.Index = ix
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, &hecError{code: HECNoData, event: -1}
	}
	return out, nil
}

func (h *HEC) asHECError(err error) *hecError {
	var he *hecError
	if errors.As(err, &he) {
		return he
	}
	if isTooLarge(err) {
		return h.tooLarge()
	}
	return &hecError{code: HECInvalidFormat, event: 0}
}

func parseHECEvent(m map[string]json.RawMessage, def Event, i int) (Event, *hecError) {
	bad := &hecError{code: HECInvalidFormat, event: i}
	e := def
	raw, ok := m["event"]
	if !ok {
		return e, &hecError{code: HECEventRequired, event: i}
	}
	var s string
	switch {
	case string(raw) == "null":
		return e, &hecError{code: HECEventBlank, event: i}
	case json.Unmarshal(raw, &s) == nil:
		if strings.TrimSpace(s) == "" {
			return e, &hecError{code: HECEventBlank, event: i}
		}
		e.Raw = s
	default:
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return e, bad
		}
		if herr := reservedKeys(raw, "event", i); herr != nil {
			return e, herr
		}
		e.Raw = b.String()
	}
	for key, dst := range map[string]*string{"host": &e.Host, "source": &e.Source, "sourcetype": &e.Sourcetype, "index": &e.Index} {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return e, bad
		}
		if s != "" || key == "index" {
			*dst = s
		}
	}
	if v, ok := m["time"]; ok && string(v) != "null" {
		t, err := parseEpoch(v)
		if err != nil {
			return e, bad
		}
		e.Time = t
	}
	if v, ok := m["fields"]; ok && string(v) != "null" {
		if herr := reservedKeys(v, "fields", i); herr != nil {
			return e, herr
		}
		f, err := parseIndexedFields(v)
		if err != nil {
			return e, &hecError{code: HECBadIndexedFields, event: i}
		}
		e.Fields = f
	}
	return e, nil
}

// reservedKeys refuses a JSON object (an event object or "fields") with a
// key that starts with "_": those names (_raw, _time, _indextime, ...) are
// the event's own fields, and a second _raw would make the event one its
// own terms cannot find. The refusal is HEC's invalid data format, naming
// the field. Values that are not objects are left to the other checks.
func reservedKeys(v json.RawMessage, where string, i int) *hecError {
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil
	}
	var bad []string
	for k := range m {
		if strings.HasPrefix(k, "_") {
			bad = append(bad, strconv.Quote(k))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return &hecError{code: HECInvalidFormat, event: i, text: fmt.Sprintf(
		"Invalid data format: field %s in %q starts with \"_\", which is reserved for the event's own fields (_raw, _time, ...): rename it",
		strings.Join(bad, ", "), where)}
}

// maxEpoch is the largest epoch second a time_ns column holds.
const maxEpoch int64 = math.MaxInt64/1_000_000_000 - 1

// parseEpoch reads epoch seconds with an optional fraction, as a JSON
// number or a string holding one.
func parseEpoch(v json.RawMessage) (time.Time, error) {
	s := strings.Trim(string(v), `"`)
	sec, frac, _ := strings.Cut(s, ".")
	if n, err := strconv.ParseInt(sec, 10, 64); err == nil && len(frac) <= 9 && (frac == "" || isDigits(frac)) {
		ns := 0
		if frac != "" {
			ns, _ = strconv.Atoi((frac + "000000000")[:9])
		}
		if n < 0 || n > maxEpoch {
			return time.Time{}, errors.New("time out of range")
		}
		return time.Unix(n, int64(ns)).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > float64(maxEpoch) || math.IsNaN(f) {
		return time.Time{}, errors.New("bad time")
	}
	whole, fr := math.Modf(f)
	return time.Unix(int64(whole), int64(fr*1e9)).UTC(), nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseIndexedFields reads HEC "fields": a flat object whose values are
// strings, numbers, booleans or arrays of them (kept as JSON text).
func parseIndexedFields(v json.RawMessage) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = s
			continue
		}
		switch raw[0] {
		case '{':
			return nil, errors.New("nested object")
		case '[':
			var arr []any
			if err := json.Unmarshal(raw, &arr); err != nil {
				return nil, err
			}
			for _, a := range arr {
				switch a.(type) {
				case map[string]any, []any:
					return nil, errors.New("nested value")
				}
			}
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		out[k] = b.String()
	}
	return out, nil
}

// parseRaw reads /raw: one event per non-blank line; host, source,
// sourcetype and index come from the query string.
func (h *HEC) parseRaw(r *http.Request, w http.ResponseWriter, tok store.HECToken) ([]Event, *hecError) {
	q := r.URL.Query()
	existing, err := h.existingIndexes(r.Context())
	if err != nil {
		h.log.Error("HEC internal error: listing the indexes failed", "path", r.URL.Path, "token", tok.Name, "err", err)
		return nil, &hecError{code: HECInternalError, event: -1}
	}
	ix, ok := h.resolveIndex(tok, q.Get("index"), existing)
	if !ok {
		return nil, &hecError{code: HECIncorrectIndex, event: -1}
	}
	def := h.defaults(r, tok)
	def.Index = ix
	for key, dst := range map[string]*string{"host": &def.Host, "source": &def.Source, "sourcetype": &def.Sourcetype} {
		if v := q.Get(key); v != "" {
			*dst = v
		}
	}
	body, err := h.body(r, w)
	if err != nil {
		return nil, h.asHECError(err)
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64*1024), int(min(h.opts.MaxBodyBytes+1, math.MaxInt32)))
	var out []Event
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		e := def
		e.Raw = line
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if isTooLarge(err) || errors.Is(err, bufio.ErrTooLong) {
			return nil, h.tooLarge()
		}
		return nil, &hecError{code: HECInvalidFormat, event: len(out)}
	}
	if len(out) == 0 {
		return nil, &hecError{code: HECNoData, event: -1}
	}
	return out, nil
}
