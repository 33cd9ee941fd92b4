package wire

import "time"

// AuditVerify answers GET /v1/audit/verify. An intact chain has OK true and
// Message "ok: N events"; a broken one has OK false, Seq naming the first
// bad event (0 when the problem is a checkpoint) and Reason saying what is
// wrong with it, and Message the whole sentence.
type AuditVerify struct {
	OK          bool   `json:"ok"`
	Events      int64  `json:"events"`
	Checkpoints int    `json:"checkpoints"`
	Message     string `json:"message"`
	Seq         int64  `json:"seq,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// HECTokenRequest is the body of POST /v1/hec/tokens.
type HECTokenRequest struct {
	Name         string   `json:"name"`
	Indexes      []string `json:"indexes"`
	DefaultIndex string   `json:"default_index,omitempty"` // empty: the first of Indexes
	// UseAck turns on indexer acknowledgement: requests must name a
	// channel and successes carry an ackId to query at /services/collector/ack.
	UseAck bool `json:"use_ack,omitempty"`
}

// NewHECToken answers HEC token creation: the secret is shown once, here.
type NewHECToken struct {
	Name         string   `json:"name"`
	Token        string   `json:"token"`
	Indexes      []string `json:"indexes"`
	DefaultIndex string   `json:"default_index"`
	UseAck       bool     `json:"use_ack"`
}

// HECToken is a HEC token as listed: never its secret, only its last four
// characters.
type HECToken struct {
	Name         string    `json:"name"`
	Last4        string    `json:"last4"`
	Indexes      []string  `json:"indexes"`
	DefaultIndex string    `json:"default_index"`
	Disabled     bool      `json:"disabled"`
	Creator      string    `json:"creator"`
	Created      time.Time `json:"created"`
	UseAck       bool      `json:"use_ack"`
}

// Index describes an event index.
type Index struct {
	Name    string    `json:"name"`
	Builtin bool      `json:"builtin"`
	Created time.Time `json:"created"`
	Events  int64     `json:"events"`
}

// IndexRequest is the body of POST /v1/indexes.
type IndexRequest struct {
	Name string `json:"name"`
}
