package api

import (
	"net/http"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/index"
	"github.com/dockyard/dockyard/internal/wire"
)

// EventsAPI serves the audit trail (verify, export, public key), HEC token
// management and event index management. The collector itself
// (/services/collector) is a mount with its own token authentication.
type EventsAPI struct {
	*API
	Index *index.Service
	Chain AuditChain
}

// Routes lists the events routes; the server appends them to API.Extra.
func (e *EventsAPI) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/v1/audit/verify", Cap: access.CapReadAudit, Action: "audit.verify", Handle: e.auditVerify},
		{Method: "GET", Pattern: "/v1/audit/export", Cap: access.CapReadAudit, Action: "audit.export", Handle: e.auditExport},
		{Method: "GET", Pattern: "/v1/audit/key", Cap: access.CapReadAudit, Action: "audit.key", Handle: e.auditKey},
		{Method: "GET", Pattern: "/v1/hec/tokens", Cap: access.CapEditHECToken, Action: "hec_token.list", Handle: e.listHECTokens},
		{Method: "POST", Pattern: "/v1/hec/tokens", Cap: access.CapEditHECToken, Action: "hec_token.create", Handle: e.createHECToken},
		{Method: "DELETE", Pattern: "/v1/hec/tokens/{name}", Cap: access.CapEditHECToken, Action: "hec_token.delete", Handle: e.deleteHECToken},
		{Method: "POST", Pattern: "/v1/hec/tokens/{name}/disable", Cap: access.CapEditHECToken, Action: "hec_token.disable", Handle: e.setHECTokenDisabled(true)},
		{Method: "POST", Pattern: "/v1/hec/tokens/{name}/enable", Cap: access.CapEditHECToken, Action: "hec_token.enable", Handle: e.setHECTokenDisabled(false)},
		{Method: "GET", Pattern: "/v1/indexes", Cap: access.CapSearch, Action: "index.list", Handle: e.listIndexes},
		{Method: "POST", Pattern: "/v1/indexes", Cap: access.CapEditIndexes, Action: "index.create", Handle: e.createIndex},
		{Method: "DELETE", Pattern: "/v1/indexes/{name}", Cap: access.CapEditIndexes, Action: "index.delete", Handle: e.deleteIndex},
	}
}

func hecTokenWire(t index.HECToken) wire.HECToken {
	return wire.HECToken{Name: t.Name, Last4: t.Last4, Indexes: nonNil(t.Indexes), DefaultIndex: t.DefaultIndex,
		Disabled: t.Disabled, Creator: t.Creator, Created: t.Created, UseAck: t.UseAck}
}

func (e *EventsAPI) listHECTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := e.Index.ListHECTokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.HECToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, hecTokenWire(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

// createHECToken answers with the token's secret: the only time it is shown.
// The audit event names the token and its indexes, never the secret.
func (e *EventsAPI) createHECToken(w http.ResponseWriter, r *http.Request) error {
	var req wire.HECTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var nt index.NewHECToken
	if err := e.changeIn(e.Index, r, func(r *http.Request) error {
		var err error
		if nt, err = e.Index.CreateHECTokenWith(r.Context(), req.Name, req.Indexes, req.DefaultIndex,
			index.HECTokenOptions{UseAck: req.UseAck}); err != nil {
			return err
		}
		return e.recordErr(r, audit.Event{Action: "hec_token.create", Object: "hec_token:" + nt.Name,
			Details: map[string]any{"indexes": nt.Indexes, "default_index": nt.DefaultIndex, "use_ack": nt.UseAck}})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wire.NewHECToken{Name: nt.Name, Token: nt.Token,
		Indexes: nonNil(nt.Indexes), DefaultIndex: nt.DefaultIndex, UseAck: nt.UseAck})
}

func (e *EventsAPI) deleteHECToken(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := e.changeIn(e.Index, r, func(r *http.Request) error {
		if err := e.Index.DeleteHECToken(r.Context(), name); err != nil {
			return err
		}
		return e.recordErr(r, audit.Event{Action: "hec_token.delete", Object: "hec_token:" + name})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func (e *EventsAPI) setHECTokenDisabled(disabled bool) HandlerFunc {
	action, state := "hec_token.enable", "enabled"
	if disabled {
		action, state = "hec_token.disable", "disabled"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if err := e.changeIn(e.Index, r, func(r *http.Request) error {
			if err := e.Index.SetHECTokenDisabled(r.Context(), name, disabled); err != nil {
				return err
			}
			return e.recordErr(r, audit.Event{Action: action, Object: "hec_token:" + name})
		}); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]string{state: name})
	}
}

func indexWire(i index.Info) wire.Index {
	return wire.Index{Name: i.Name, Builtin: i.Builtin, Created: i.Created, Events: i.Events}
}

// listIndexes shows only the indexes the caller may search (every index to
// a holder of edit_indexes); the service filters by the caller in ctx.
func (e *EventsAPI) listIndexes(w http.ResponseWriter, r *http.Request) error {
	is, err := e.Index.ListIndexes(r.Context())
	if err != nil {
		return err
	}
	out := make([]wire.Index, 0, len(is))
	for _, i := range is {
		out = append(out, indexWire(i))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (e *EventsAPI) createIndex(w http.ResponseWriter, r *http.Request) error {
	var req wire.IndexRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var info index.Info
	if err := e.changeIn(e.Index, r, func(r *http.Request) error {
		var err error
		if info, err = e.Index.CreateIndex(r.Context(), req.Name); err != nil {
			return err
		}
		return e.recordErr(r, audit.Event{Action: "index.create", Object: "index:" + info.Name})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, indexWire(info))
}

func (e *EventsAPI) deleteIndex(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := e.changeIn(e.Index, r, func(r *http.Request) error {
		if err := e.Index.DeleteIndex(r.Context(), name); err != nil {
			return err
		}
		return e.recordErr(r, audit.Event{Action: "index.delete", Object: "index:" + name})
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}
