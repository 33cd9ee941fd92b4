package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/telemetry"
	"github.com/dockyard/dockyard/internal/wire"
)

// TelemetryAPI serves /metrics and the observability settings. Both need
// configure_mltk_container: metrics show who uses what, and the settings
// decide where traces go.
type TelemetryAPI struct {
	*API
	Metrics       *telemetry.Metrics
	Observability *telemetry.Observability
}

// Routes lists the telemetry routes.
func (t *TelemetryAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/metrics", Cap: access.CapConfigureContainer, Action: "metrics.read", Handle: t.metrics},
		{Method: "GET", Pattern: "/v1/settings/observability", Cap: access.CapConfigureContainer, Action: "observability.show", Handle: t.show},
		{Method: "PUT", Pattern: "/v1/settings/observability", Cap: access.CapConfigureContainer, Action: "observability.update", Handle: t.update},
	}
}

func (t *TelemetryAPI) metrics(w http.ResponseWriter, r *http.Request) error {
	t.Metrics.Handler().ServeHTTP(w, r)
	return nil
}

func observabilityWire(v telemetry.View) wire.ObservabilitySettings {
	return wire.ObservabilitySettings{
		Enabled: v.Enabled, Endpoint: v.Endpoint, ServiceName: v.ServiceName, TokenHeader: v.TokenHeader,
		TokenSet: v.TokenSet, TokenLast4: v.TokenLast4, Source: v.Source, Updated: v.Updated, UpdatedBy: v.UpdatedBy,
	}
}

func (t *TelemetryAPI) show(w http.ResponseWriter, r *http.Request) error {
	v, err := t.Observability.Get(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, observabilityWire(v))
}

func (t *TelemetryAPI) update(w http.ResponseWriter, r *http.Request) error {
	var req wire.ObservabilityUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	var v telemetry.View
	// The settings and their audit event commit together; the new
	// settings take effect once they have.
	if err := t.changeIn(t.Observability, r, func(r *http.Request) error {
		var err error
		if v, err = t.Observability.Put(r.Context(), p.User, telemetry.Update{
			Enabled: req.Enabled, Endpoint: req.Endpoint, Token: req.Token,
			TokenHeader: req.TokenHeader, ServiceName: req.ServiceName,
		}); err != nil {
			return err
		}
		// What changed, never the token itself (keys avoid the words the
		// audit redactor blanks, so that the booleans stay readable).
		details := map[string]any{"enabled": v.Enabled, "endpoint": v.Endpoint, "service_name": v.ServiceName,
			"auth_configured": v.TokenSet, "auth_changed": req.Token != nil}
		if req.TokenHeader != nil {
			details["auth_header"] = v.TokenHeader
		}
		return t.recordErr(r, audit.Event{Action: "observability.update", Object: "settings:observability", Details: details})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, observabilityWire(v))
}
