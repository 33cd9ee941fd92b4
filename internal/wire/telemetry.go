package wire

import "time"

// ObservabilitySettings answers GET and PUT /v1/settings/observability.
// The access token is never returned: only whether one is set and its last
// four characters.
type ObservabilitySettings struct {
	Enabled     bool      `json:"enabled"`
	Endpoint    string    `json:"endpoint"`
	ServiceName string    `json:"service_name"`
	TokenHeader string    `json:"token_header,omitempty"`
	TokenSet    bool      `json:"token_set"`
	TokenLast4  string    `json:"token_last4,omitempty"` // "…abcd", or "****" for a short token
	Source      string    `json:"source"`                // "settings" once an admin saved them, else "config"
	Updated     time.Time `json:"updated,omitzero"`
	UpdatedBy   string    `json:"updated_by,omitempty"`
}

// ObservabilityUpdate is the body of PUT /v1/settings/observability.
// Fields left out keep their value; "token": "" removes the token.
type ObservabilityUpdate struct {
	Enabled     *bool   `json:"enabled,omitempty"`
	Endpoint    *string `json:"endpoint,omitempty"`
	Token       *string `json:"token,omitempty"`
	TokenHeader *string `json:"token_header,omitempty"`
	ServiceName *string `json:"service_name,omitempty"`
}
