// Package errhttp is the one mapping between Dockyard's error kinds
// (package errdefs) and what travels over HTTP: a status code and a code
// string in the answer's body. The server's API (internal/api) and the
// agent (internal/agent) answer errors with Status; their clients
// (internal/client, internal/agent/agentclient) read answers back with
// API.Decode and Agent.Decode. Both protocols share Table; they differ only
// in what a client makes of an internal failure (see Protocol).
//
// HEC (internal/index) speaks Splunk's protocol, with numeric codes of its
// own, and is not mapped here.
package errhttp

import (
	"errors"
	"net/http"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// Entry is one row of the mapping: an error kind, the HTTP status that
// answers it and the code string of the answer's body.
type Entry struct {
	Kind   error
	Status int
	Code   string
}

// TooLarge answers a request whose body is over its limit: an error whose
// chain holds an *http.MaxBytesError and whose kind is Limit or none. A
// client reads it back as Limit.
var TooLarge = Entry{errdefs.ErrLimit, http.StatusRequestEntityTooLarge, "too_large"}

// DiskFull answers a request that failed because the server's disk is full
// (the server decides when; see internal/api). A client reads it back as
// Unavailable: nothing the caller changes makes it work until an operator
// frees space.
var DiskFull = Entry{errdefs.ErrUnavailable, http.StatusInsufficientStorage, "disk_full"}

// Internal answers an error of kind Internal or of no kind.
var Internal = Entry{errdefs.ErrInternal, http.StatusInternalServerError, "internal"}

// Table is every row. The first row of a kind is what an error of that kind
// is answered with; TooLarge and DiskFull are answered only when their
// condition holds. Decoding reads any row back to its kind.
var Table = []Entry{
	{errdefs.ErrInvalid, http.StatusBadRequest, "invalid"},
	{errdefs.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{errdefs.ErrPermissionDenied, http.StatusForbidden, "permission_denied"},
	{errdefs.ErrNotFound, http.StatusNotFound, "not_found"},
	{errdefs.ErrConflict, http.StatusConflict, "conflict"},
	{errdefs.ErrLimit, http.StatusTooManyRequests, "limit"},
	{errdefs.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	Internal,
	TooLarge,
	DiskFull,
}

// Of returns the row that answers err: the first row of its kind
// (errdefs.Kind, the outermost kind in its chain); TooLarge when the chain
// holds an *http.MaxBytesError and the kind is Limit or none; Internal for
// an error of no kind.
func Of(err error) Entry {
	k := errdefs.Kind(err)
	if k == nil || k == errdefs.ErrLimit {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return TooLarge
		}
	}
	for _, e := range Table {
		if e.Kind == k {
			return e
		}
	}
	return Internal
}

// Status returns the HTTP status and the code string that answer err.
func Status(err error) (int, string) {
	e := Of(err)
	return e.Status, e.Code
}

// Protocol is how a client of one protocol reads an error answer back.
type Protocol struct {
	// Name says which protocol this is, for documentation and tests.
	Name string
	// Internal is the kind of an internal answer (status 500 or the code
	// "internal").
	Internal error
	// Other4xx and Other5xx are the kinds of statuses that are not in
	// Table (such as 405 from a router or 502 from a proxy); any other
	// status (1xx, 3xx) is Other5xx too.
	Other4xx, Other5xx error
}

// API is the server's public HTTP API: an internal answer is Internal (the
// server logged it under the request id its message names); an unknown
// 4xx is Invalid (the request was refused as it stands); an unknown 5xx is
// Unavailable (a proxy or a server in trouble: try again later).
var API = Protocol{Name: "api", Internal: errdefs.ErrInternal, Other4xx: errdefs.ErrInvalid, Other5xx: errdefs.ErrUnavailable}

// Agent is the protocol between the server and an agent in a container. An
// agent's internal failure is Unavailable to the server: the container is
// what failed, and the server answers its own callers so.
var Agent = Protocol{Name: "agent", Internal: errdefs.ErrUnavailable, Other4xx: errdefs.ErrInvalid, Other5xx: errdefs.ErrUnavailable}

// Kind returns the kind of an answer with the given status and code
// string. The code decides when it is a known one and agrees with the
// status (or status is 0, as in a search's error frame); otherwise the
// status decides.
func (p Protocol) Kind(status int, code string) error {
	var k error
	for _, e := range Table {
		if code != "" && e.Code == code && (status == 0 || status == e.Status) {
			k = e.Kind
			break
		}
	}
	if k == nil {
		for _, e := range Table {
			if status == e.Status {
				k = e.Kind
				break
			}
		}
	}
	switch {
	case k == errdefs.ErrInternal:
		return p.Internal
	case k != nil:
		return k
	case status >= 400 && status < 500:
		return p.Other4xx
	case status == 0:
		return p.Internal
	}
	return p.Other5xx
}

// Decode returns an error of the answer's kind whose message is exactly
// msg.
func (p Protocol) Decode(status int, code, msg string) error {
	return errdefs.New(p.Kind(status, code), msg)
}
