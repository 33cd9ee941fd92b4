package server

import (
	"log/slog"

	"github.com/dockyard/dockyard/internal/api"
	"github.com/dockyard/dockyard/internal/web"
)

// newWeb builds the web console: its pages are API routes (marked Page)
// that call the other routes in process, and its error pages answer the
// errors of those routes.
func newWeb(log *slog.Logger, a *api.API) ([]api.Route, error) {
	c, err := web.New(a, log.With("component", "web"))
	if err != nil {
		return nil, err
	}
	a.PageError = c.Error
	return c.Routes(), nil
}
