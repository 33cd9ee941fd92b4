// Package events holds the event and query types that the event indexes
// (internal/index) serve and the search language (internal/search) reads,
// so that neither depends on the other.
package events

import "time"

// Event is one stored event.
type Event struct {
	Index      string            `json:"index"`
	Time       time.Time         `json:"_time"`
	Host       string            `json:"host"`
	Source     string            `json:"source"`
	Sourcetype string            `json:"sourcetype"`
	Raw        string            `json:"_raw"`
	Fields     map[string]string `json:"fields,omitempty"` // extracted or indexed fields
	Seq        int64             `json:"seq"`              // store order within the index
}

// Query selects events. Terms narrow the candidates through the full-text
// index: an event matches when its _raw (or a field value) contains every
// term; a term with spaces is a phrase. The search language applies its full
// boolean expression to the events a Query returns, so Terms only needs to
// be a superset filter (the positive terms of an AND).
type Query struct {
	Indexes  []string  // required; "*" is every index the caller may read except _internal
	Terms    []string  // every term or phrase must occur (case-insensitive)
	Earliest time.Time // zero: unbounded
	Latest   time.Time // zero: unbounded
	Limit    int       // 0: unlimited
	Reverse  bool      // newest first (the search language's default order)
}
