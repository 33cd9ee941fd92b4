package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/audit"
)

// RecordForTest records e as a handler of a would.
func RecordForTest(a *API, r *http.Request, e audit.Event) { a.record(r, e) }
