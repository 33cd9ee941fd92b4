package agentclient

import (
	"context"
	"encoding/json"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// Jupyter reads GET /v1/jupyter: whether the agent runs Jupyter and how
// recently it and the agent were in use. An agent older than this answers
// a NotFound error.
func (c *Client) Jupyter(ctx context.Context) (agent.JupyterStatus, error) {
	resp, err := c.do(ctx, "GET", "/v1/jupyter", nil, nil)
	if err != nil {
		return agent.JupyterStatus{}, err
	}
	defer resp.Body.Close()
	var st agent.JupyterStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return agent.JupyterStatus{}, errdefs.Unavailablef("agent /v1/jupyter: bad answer: %w", err)
	}
	return st, nil
}
