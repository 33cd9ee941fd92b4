package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"

	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/wire"
)

// AuditChain is the hash-chained audit log as the API uses it
// (*audit.Log).
type AuditChain interface {
	Verify(ctx context.Context) (audit.Result, error)
	Export(ctx context.Context, w io.Writer) error
	PublicKey() ed25519.PublicKey
}

// auditVerify walks the stored chain. A broken chain is an answer, not an
// error: 200 with ok=false, the first bad event's seq and the reason.
func (e *EventsAPI) auditVerify(w http.ResponseWriter, r *http.Request) error {
	res, err := e.Chain.Verify(r.Context())
	var verr *audit.VerifyError
	switch {
	case errors.As(err, &verr):
		return writeJSON(w, http.StatusOK, wire.AuditVerify{OK: false, Seq: verr.Seq, Reason: verr.Reason, Message: verr.Error()})
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, wire.AuditVerify{OK: true, Events: res.Events, Checkpoints: res.Checkpoints, Message: res.String()})
}

// auditExport streams the chain as JSON lines (audit.Log.Export's format),
// flushing as it goes. Who exported the trail is itself audited.
func (e *EventsAPI) auditExport(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.jsonl"`)
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	if err := e.Chain.Export(r.Context(), fw); err != nil {
		if fw.n == 0 {
			w.Header().Del("Content-Disposition")
			return err
		}
		// Part of the export is on its way: end the connection without a
		// clean end of body, so that the client sees a failed download
		// rather than a short file.
		e.Log.Error("audit export failed midway", "err", err, "request_id", RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	e.record(r, audit.Event{Action: "audit.export", Object: "audit"})
	return nil
}

// flushWriter flushes the response after every write and counts bytes.
type flushWriter struct {
	w io.Writer
	f http.Flusher
	n int64
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.n += int64(n)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}

// auditKey answers the public key that verifies checkpoints and exports,
// as PEM; the key id is in the Dockyard-Key-Id header.
func (e *EventsAPI) auditKey(w http.ResponseWriter, r *http.Request) error {
	pub := e.Chain.PublicKey()
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Dockyard-Key-Id", audit.KeyID(pub))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(audit.PublicKeyPEM(pub))
	return err
}
