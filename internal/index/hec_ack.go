package index

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/store"
)

// channelRE is the GUID form Splunk requires of a data channel.
var channelRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ackKey names one channel of one token (by its secret's hash, so a
// token deleted and re-created under the same name starts afresh).
type ackKey struct{ token, channel string }

type ackChannel struct {
	next uint64 // the next ack id to issue; ids below it were issued
	used time.Time
}

// ackState is the in-memory indexer acknowledgement state. Events are
// durable before an ack id is issued, so an issued id is always true; a
// channel therefore needs only its counter: it remembers the last maxIDs
// ids and is forgotten after idle without use.
type ackState struct {
	mu     sync.Mutex
	maxIDs uint64
	idle   time.Duration
	now    func() time.Time
	chans  map[ackKey]*ackChannel
	swept  time.Time
}

func newAckState(maxIDs int, idle time.Duration, now func() time.Time) *ackState {
	return &ackState{maxIDs: uint64(maxIDs), idle: idle, now: now, chans: map[ackKey]*ackChannel{}}
}

// sweep forgets idle channels; at most ten times per idle period. mu held.
func (a *ackState) sweep(now time.Time) {
	if now.Sub(a.swept) < a.idle/10 {
		return
	}
	a.swept = now
	for k, c := range a.chans {
		if now.Sub(c.used) >= a.idle {
			delete(a.chans, k)
		}
	}
}

// issue returns the next ack id of the channel, creating it if needed.
func (a *ackState) issue(k ackKey) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.sweep(now)
	c := a.chans[k]
	if c == nil {
		c = &ackChannel{}
		a.chans[k] = c
	}
	id := c.next
	c.next++
	c.used = now
	return id
}

// query answers each id: true if the channel issued it and still
// remembers it.
func (a *ackState) query(k ackKey, ids []uint64) map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.sweep(now)
	out := make(map[string]bool, len(ids))
	c := a.chans[k]
	if c != nil {
		c.used = now
	}
	for _, id := range ids {
		ok := c != nil && id < c.next && c.next-id <= a.maxIDs
		out[strconv.FormatUint(id, 10)] = ok
	}
	return out
}

// channels returns how many channels are remembered (for tests).
func (a *ackState) channels() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.chans)
}

// requestChannel returns the request's data channel (header
// X-Splunk-Request-Channel, else query parameter channel), lower-cased,
// or a HEC refusal: code 10 when absent, 11 when not a GUID.
func requestChannel(hdr, query string) (string, *hecError) {
	ch := strings.TrimSpace(hdr)
	if ch == "" {
		ch = strings.TrimSpace(query)
	}
	if ch == "" {
		return "", &hecError{code: HECChannelMissing, event: -1}
	}
	if !channelRE.MatchString(ch) {
		return "", &hecError{code: HECInvalidChannel, event: -1}
	}
	return strings.ToLower(ch), nil
}

// ackChannel checks the data channel of a request by a token with
// acknowledgement on. For a token without it, /ack is refused with code
// 14 and other requests pass unchanged.
func (h *HEC) ackChannel(r *http.Request, tok store.HECToken, isAck bool) (ackKey, *hecError) {
	if !tok.UseAck {
		if isAck {
			return ackKey{}, &hecError{code: HECAckDisabled, event: -1}
		}
		return ackKey{}, nil
	}
	ch, herr := requestChannel(r.Header.Get("X-Splunk-Request-Channel"), r.URL.Query().Get("channel"))
	if herr != nil {
		return ackKey{}, herr
	}
	if h.acks == nil {
		h.log.Error("HEC token has acknowledgement on but the collector has no ack limits configured (HECOptions.AckMaxIDs, AckChannelIdle)",
			"token", tok.Name)
		return ackKey{}, &hecError{code: HECInternalError, event: -1}
	}
	return ackKey{token: tok.Hash, channel: ch}, nil
}

// serveAck answers POST /services/collector/ack {"acks":[id,...]} with
// {"acks":{"id":bool,...}}.
func (h *HEC) serveAck(w http.ResponseWriter, r *http.Request, k ackKey) {
	b, err := h.body(r, w)
	if err != nil {
		if isTooLarge(err) {
			herr := h.tooLarge()
			reply(w, herr.code, herr.event, herr.text, herr.status)
			return
		}
		var herr *hecError
		if errors.As(err, &herr) {
			reply(w, herr.code, -1, herr.text, herr.status)
			return
		}
		reply(w, HECInvalidFormat, -1, "", 0)
		return
	}
	var req HECAckRequest
	dec := json.NewDecoder(b)
	if err := dec.Decode(&req); err != nil {
		if isTooLarge(err) {
			herr := h.tooLarge()
			reply(w, herr.code, herr.event, herr.text, herr.status)
			return
		}
		reply(w, HECInvalidFormat, -1, "", 0)
		return
	}
	if req.Acks == nil {
		reply(w, HECInvalidFormat, -1, `Invalid data format: send {"acks":[id,...]}`, 0)
		return
	}
	writeHECJSON(w, http.StatusOK, HECAckReply{Acks: h.acks.query(k, req.Acks)})
}
