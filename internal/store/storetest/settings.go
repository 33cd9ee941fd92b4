package storetest

import (
	"context"
	"testing"

	"github.com/dockyard/dockyard/internal/errdefs"
)

func testSettings(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)

	if _, err := s.GetSetting(ctx, "server_id"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetSetting(missing) error = %v, want ErrNotFound", err)
	}
	steps := []struct{ key, value string }{
		{"server_id", "abc"},
		{"server_id", "def"}, // replaces
		{"empty", ""},
		{"unicode", "ünï\ncode"},
	}
	want := map[string]string{}
	for _, st := range steps {
		if err := s.PutSetting(ctx, st.key, st.value); err != nil {
			t.Fatalf("PutSetting(%q): %v", st.key, err)
		}
		want[st.key] = st.value
	}
	for k, v := range want {
		got, err := s.GetSetting(ctx, k)
		if err != nil || got != v {
			t.Errorf("GetSetting(%q) = %q, %v; want %q", k, got, err, v)
		}
	}
}
