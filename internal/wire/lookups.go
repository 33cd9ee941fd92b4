package wire

import "time"

// Lookup is a CSV lookup table as `lookups list -o json` and `lookups show
// NAME -o json` show it.
type Lookup struct {
	Name    string      `json:"name"`
	App     string      `json:"app"`
	Owner   string      `json:"owner"`
	Sharing string      `json:"sharing"`
	Read    []string    `json:"read"`
	Write   []string    `json:"write"`
	Digest  string      `json:"digest"`
	Size    int64       `json:"size"`
	Created time.Time   `json:"created"`
	Updated time.Time   `json:"updated"`
	Perms   LookupPerms `json:"perms"`
}

// LookupPerms says what the caller may do with a lookup.
type LookupPerms struct {
	Read  bool `json:"read"`
	Write bool `json:"write"`
	Share bool `json:"share"`
}

// LookupShare is the body of POST /v1/lookups/{name}/share.
type LookupShare struct {
	Sharing string   `json:"sharing"` // user, app or global
	Read    []string `json:"read"`
	Write   []string `json:"write"`
}
