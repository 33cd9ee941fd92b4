package errdefs

import (
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	cases := []struct {
		err  error
		is   func(error) bool
		text string
	}{
		{NotFound("model not found: M"), IsNotFound, "model not found: M"},
		{fmt.Errorf("role %q: %w", "x", ErrConflict), IsConflict, `role "x": conflict`},
		{Invalid("bad"), IsInvalid, "bad"},
		{PermissionDenied("no"), IsPermissionDenied, "no"},
		{fmt.Errorf("wrap: %w", Unauthenticated("login")), IsUnauthenticated, "wrap: login"},
		{Unavailable("down"), IsUnavailable, "down"},
		{Limit("rows"), IsLimit, "rows"},
	}
	for _, c := range cases {
		if !c.is(c.err) {
			t.Errorf("%v: kind not recognised", c.err)
		}
		if c.err.Error() != c.text {
			t.Errorf("text = %q, want %q", c.err.Error(), c.text)
		}
	}
	if IsNotFound(Conflict("x")) {
		t.Error("conflict reported as not found")
	}
}
