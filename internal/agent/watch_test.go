package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockyard/dockyard/internal/agent/agentclient"
	"github.com/dockyard/dockyard/internal/agent/agenttest"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// TestChangesEndpoint: GET /v1/changes needs the token, answers at once
// for a caller behind, waits out its wait when nothing changed, and
// answers a newer number once a notebook written on disk has settled.
func TestChangesEndpoint(t *testing.T) {
	ctx := context.Background()
	a := agenttest.Start(t, agenttest.Options{Python: bare(t)})
	if _, err := agentclient.New(a.URL, "wrong", a.Client).Changes(ctx, 0, 0); !errdefs.IsUnauthenticated(err) {
		t.Fatalf("changes with a wrong token = %v", err)
	}
	c := agentclient.New(a.URL, a.Token, a.Client)
	seq, err := c.Changes(ctx, 0, time.Minute)
	if err != nil || seq != 1 {
		t.Fatalf("first changes = %d, %v; want 1", seq, err)
	}
	if got, err := c.Changes(ctx, seq, 50*time.Millisecond); err != nil || got != seq {
		t.Fatalf("changes with nothing changed = %d, %v; want %d", got, err, seq)
	}
	if err := os.WriteFile(filepath.Join(a.Root, "notebooks", "edit.py"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := c.Changes(ctx, seq, time.Minute)
	if err != nil || got <= seq {
		t.Fatalf("changes after a write = %d, %v; want more than %d", got, err, seq)
	}
	if _, err := c.Changes(ctx, 0, -time.Second); !errdefs.IsInvalid(err) {
		t.Errorf("a negative wait = %v, want invalid", err)
	}
}
