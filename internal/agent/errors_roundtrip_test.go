package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/dockyard/dockyard/internal/agent"
	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestAgentErrorRoundTrip: every kind the agent answers reaches the
// server's agent client as the same kind with the same message (after the
// client's "agent METHOD PATH: " prefix), except that the agent's internal
// failures are Unavailable to the server.
func TestAgentErrorRoundTrip(t *testing.T) {
	kinds := map[string]error{}
	for _, k := range errdefs.Kinds {
		kinds[strings.ReplaceAll(k.Error(), " ", "_")] = k
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/v1/notebooks/")
		switch {
		case kinds[name] != nil:
			// The outermost kind answers, not its cause's.
			agent.WriteErrorForTest(w, errdefs.Newf(kinds[name], "the %s answer (%w)", name, errdefs.Conflict("a cause")))
		case name == "nokind":
			agent.WriteErrorForTest(w, errors.New("the runner died"))
		case name == "toolarge":
			agent.WriteErrorForTest(w, fmt.Errorf("reading: %w", &http.MaxBytesError{Limit: 1}))
		default:
			s, _ := strconv.Atoi(name)
			http.Error(w, "plain "+name, s)
		}
	}))
	defer srv.Close()
	c := agentclient.New(srv.URL, "token", srv.Client())
	cases := []struct {
		name string
		kind error
		msg  string
	}{
		{"nokind", errdefs.ErrUnavailable, "the runner died"},
		{"toolarge", errdefs.ErrLimit, "request body is larger than the agent's limit; send fewer rows per request or use /v1/fit/stream"},
		{"405", errdefs.ErrInvalid, "plain 405"},
		{"500", errdefs.ErrUnavailable, "plain 500"},
		{"502", errdefs.ErrUnavailable, "plain 502"},
		{"413", errdefs.ErrLimit, "plain 413"},
	}
	for _, k := range errdefs.Kinds {
		want := k
		if k == errdefs.ErrInternal {
			want = errdefs.ErrUnavailable
		}
		cases = append(cases, struct {
			name string
			kind error
			msg  string
		}{strings.ReplaceAll(k.Error(), " ", "_"), want, fmt.Sprintf("the %s answer (a cause)", strings.ReplaceAll(k.Error(), " ", "_"))})
	}
	for _, tc := range cases {
		_, err := c.GetNotebook(context.Background(), tc.name)
		prefix := "agent GET /v1/notebooks/" + tc.name + ": "
		if errdefs.Kind(err) != tc.kind || !strings.HasPrefix(fmt.Sprint(err), prefix) {
			t.Errorf("%s: got %v of kind %v, want kind %v", tc.name, err, errdefs.Kind(err), tc.kind)
			continue
		}
		if msg := strings.TrimPrefix(err.Error(), prefix); msg != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, msg, tc.msg)
		}
	}
}
