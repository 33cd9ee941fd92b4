package wire

import "time"

// App is an app as the API shows it: who may use it (Read) and who may
// share objects into it (Write), and what the caller may do there.
type App struct {
	Name      string    `json:"name"`
	Read      []string  `json:"read"`
	Write     []string  `json:"write"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	CanWrite  bool      `json:"can_write"` // the caller may share objects into it
}

// AppRequest creates an app (Name, and the role lists; nil lists get the
// defaults: read by every role, write by admin and power) or changes one
// (nil lists stay).
type AppRequest struct {
	Name  string    `json:"name,omitempty"`
	Read  *[]string `json:"read,omitempty"`
	Write *[]string `json:"write,omitempty"`
}
