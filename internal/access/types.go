package access

import "github.com/dockyard/dockyard/internal/store"

// The records the access service reads and writes, as its callers name
// them. They are the store's records (aliases, not copies), named here so
// that the API needs no import of the store.
type (
	User  = store.User
	Role  = store.Role
	Token = store.Token
	App   = store.App
)
