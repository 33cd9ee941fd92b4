package agentclient

import (
	"context"
	"encoding/json"
	"io"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// The seed system's own containers speak a smaller API than the Dockyard
// agent: POST /fit and POST /apply with {"data": "<CSV>", "meta": {...}}
// answering {"status", "message", "results": "<CSV>"} (Fit and Apply
// above), and GET /summary answering the summary of the model the
// container has loaded last. They have none of the /v1 endpoints (no
// notebook placement, no model file transfer, no streaming).

// maxSeedSummary bounds the summary a seed container may answer.
const maxSeedSummary = 1 << 20

// SupportsAgentAPI reports whether the endpoint is a Dockyard agent (it
// answers GET /v1/info) or speaks only the seed's container API (that
// path is unknown to it: 404). Other failures (unreachable, a refused
// token) are errors.
func (c *Client) SupportsAgentAPI(ctx context.Context) (bool, error) {
	_, err := c.Info(ctx)
	switch {
	case err == nil:
		return true, nil
	case errdefs.IsNotFound(err):
		return false, nil
	}
	return false, err
}

// SeedSummary is the seed container's GET /summary. The seed's container
// answers a JSON document, which its FastAPI app encodes once more as a
// JSON string; both forms are accepted.
func (c *Client) SeedSummary(ctx context.Context) (map[string]any, error) {
	resp, err := c.do(ctx, "GET", "/summary", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSeedSummary+1))
	if err != nil {
		return nil, errdefs.Unavailablef("container %s: reading /summary: %w", c.base, err)
	}
	if len(b) > maxSeedSummary {
		return nil, errdefs.Limitf("container %s: /summary answered more than %d bytes", c.base, maxSeedSummary)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, errdefs.Unavailablef("container %s: /summary is not JSON: %w", c.base, err)
	}
	if s, ok := doc.(string); ok {
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, errdefs.Unavailablef("container %s: /summary answered a string that is not JSON: %w", c.base, err)
		}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, errdefs.Unavailablef("container %s: /summary answered %T, want a JSON object", c.base, doc)
	}
	return m, nil
}
