package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// CheckpointSourcetype is the sourcetype of checkpoints forwarded to an
// HTTP Event Collector.
const CheckpointSourcetype = "dockyard:audit:checkpoint"

// HECForwarder posts every new checkpoint to an HTTP Event Collector (a
// Splunk or Dockyard HEC on another machine), so that a copy exists where
// whoever controls this server's disk cannot reach it.
type HECForwarder struct {
	URL    string       // the collector's event endpoint, e.g. https://hec.example:8088/services/collector/event
	Token  string       // the HEC token (sent as "Authorization: Splunk TOKEN")
	Host   string       // host field of the forwarded events
	Client *http.Client // nil: a client with a 10 s timeout
}

// hecEvent is one event in HEC's JSON format.
type hecEvent struct {
	Time       float64        `json:"time"`
	Host       string         `json:"host,omitempty"`
	Source     string         `json:"source"`
	Sourcetype string         `json:"sourcetype"`
	Event      CheckpointLine `json:"event"`
}

// Forward posts cp as one HEC event and checks the collector's answer.
func (f *HECForwarder) Forward(ctx context.Context, cp store.AuditCheckpoint) error {
	c := f.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	body, err := json.Marshal(hecEvent{Time: float64(cp.Time.UnixNano()) / 1e9, Host: f.Host, Source: SourceName,
		Sourcetype: CheckpointSourcetype, Event: lineOf(cp)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		return errdefs.Invalidf("audit.checkpoint_hec_url %q: %w", f.URL, err)
	}
	req.Header.Set("Authorization", "Splunk "+f.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("forward checkpoint to %s: %w", f.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var ans struct {
		Text string `json:"text"`
		Code *int   `json:"code"`
	}
	json.Unmarshal(b, &ans)
	if resp.StatusCode != http.StatusOK || ans.Code == nil || *ans.Code != 0 {
		return errdefs.Unavailablef("forward checkpoint to %s: HTTP %d: %s", f.URL, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}
