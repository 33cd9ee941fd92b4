package errdefs

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
)

func TestKinds(t *testing.T) {
	cases := []struct {
		err  error
		is   func(error) bool
		kind error
		text string
	}{
		{NotFound("model not found: M"), IsNotFound, ErrNotFound, "model not found: M"},
		{fmt.Errorf("role %q: %w", "x", ErrConflict), IsConflict, ErrConflict, `role "x": conflict`},
		{Invalid("bad"), IsInvalid, ErrInvalid, "bad"},
		{PermissionDenied("no"), IsPermissionDenied, ErrPermissionDenied, "no"},
		{fmt.Errorf("wrap: %w", Unauthenticated("login")), IsUnauthenticated, ErrUnauthenticated, "wrap: login"},
		{Unavailable("down"), IsUnavailable, ErrUnavailable, "down"},
		{Limit("rows"), IsLimit, ErrLimit, "rows"},
		{Internal("bug"), IsInternal, ErrInternal, "bug"},
		{NotFoundf("model %s", "M"), IsNotFound, ErrNotFound, "model M"},
		{Conflictf("app %q", "a"), IsConflict, ErrConflict, `app "a"`},
		{Invalidf("meta: %w", errors.New("eof")), IsInvalid, ErrInvalid, "meta: eof"},
		{PermissionDeniedf("%d", 1), IsPermissionDenied, ErrPermissionDenied, "1"},
		{Unauthenticatedf("token %s expired", "t"), IsUnauthenticated, ErrUnauthenticated, "token t expired"},
		{Unavailablef("agent: %w", fs.ErrClosed), IsUnavailable, ErrUnavailable, "agent: file already closed"},
		{Limitf("%d rows", 5), IsLimit, ErrLimit, "5 rows"},
		{Internalf("x=%v", 2), IsInternal, ErrInternal, "x=2"},
	}
	for _, c := range cases {
		if !c.is(c.err) {
			t.Errorf("%v: kind not recognised", c.err)
		}
		if !errors.Is(c.err, c.kind) {
			t.Errorf("%v: errors.Is(err, its kind) is false", c.err)
		}
		if k := Kind(c.err); k != c.kind {
			t.Errorf("%v: Kind = %v, want %v", c.err, k, c.kind)
		}
		if c.err.Error() != c.text {
			t.Errorf("text = %q, want %q", c.err.Error(), c.text)
		}
	}
	if IsNotFound(Conflict("x")) {
		t.Error("conflict reported as not found")
	}
}

// TestContainerdKinds: Dockyard's kinds are containerd/errdefs's, so its
// helpers and errors.Is with its sentinels see every Dockyard error.
func TestContainerdKinds(t *testing.T) {
	cases := []struct {
		err error
		is  func(error) bool
	}{
		{NotFound("x"), cerrdefs.IsNotFound},
		{Conflictf("x %w", errors.New("y")), cerrdefs.IsConflict},
		{Invalid("x"), cerrdefs.IsInvalidArgument},
		{PermissionDenied("x"), cerrdefs.IsPermissionDenied},
		{Unauthenticated("x"), cerrdefs.IsUnauthorized},
		{Unavailable("x"), cerrdefs.IsUnavailable},
		{Limit("x"), cerrdefs.IsResourceExhausted},
		{Internal("x"), cerrdefs.IsInternal},
		{fmt.Errorf("ctx: %w", ErrNotFound), cerrdefs.IsNotFound},
	}
	for _, c := range cases {
		if !c.is(c.err) {
			t.Errorf("%v (%T): containerd's helper does not see its kind", c.err, Kind(c.err))
		}
	}
	if !errors.Is(Invalid("x"), cerrdefs.ErrInvalidArgument) || !errors.Is(Limit("x"), cerrdefs.ErrResourceExhausted) {
		t.Error("errors.Is with containerd's sentinels fails")
	}
	// A containerd error is a Dockyard one of the same kind.
	if !IsNotFound(cerrdefs.ErrNotFound.WithMessage("gone")) || !IsLimit(fmt.Errorf("a: %w", cerrdefs.ErrResourceExhausted)) {
		t.Error("containerd errors are not recognised")
	}
}

// TestWrappedCause: the f constructors keep their %w cause reachable while
// the kind stays theirs; Kind and the Is* helpers answer the outermost kind.
func TestWrappedCause(t *testing.T) {
	cause := fmt.Errorf("model %q: %w", "M", ErrNotFound)
	err := Invalidf("the meta names a model that does not exist (%w); fix the meta", cause)
	if got, want := err.Error(), `the meta names a model that does not exist (model "M": not found); fix the meta`; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if errors.Unwrap(err) != cause {
		t.Errorf("Unwrap = %v, want the cause", errors.Unwrap(err))
	}
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is does not see both the kind and the cause's kind")
	}
	if Kind(err) != ErrInvalid || !IsInvalid(err) || IsNotFound(err) {
		t.Errorf("Kind = %v, IsInvalid %v, IsNotFound %v; want the outermost kind, Invalid, only",
			Kind(err), IsInvalid(err), IsNotFound(err))
	}
	// Wrapped again without a kind of its own, the outermost kind shows.
	outer := fmt.Errorf("fit: %w", err)
	if Kind(outer) != ErrInvalid {
		t.Errorf("Kind through fmt.Errorf = %v, want Invalid", Kind(outer))
	}
	// An errors.As target in the cause is reached.
	var pe *fs.PathError
	if !errors.As(Unavailablef("reading: %w", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}), &pe) || pe.Path != "/x" {
		t.Error("errors.As does not reach the cause")
	}
	// Several causes.
	a, b := errors.New("a"), NotFound("b")
	multi := Conflictf("%w and %w", a, b)
	if multi.Error() != "a and b" || !errors.Is(multi, a) || !errors.Is(multi, ErrNotFound) || Kind(multi) != ErrConflict {
		t.Errorf("several causes: text %q, kind %v", multi.Error(), Kind(multi))
	}
	// Wrap keeps the cause out of the message.
	w := Wrap(ErrLimit, a, "too big: send less")
	if w.Error() != "too big: send less" || errors.Unwrap(w) != a || !IsLimit(w) {
		t.Errorf("Wrap: %q, %v", w.Error(), errors.Unwrap(w))
	}
	// No %w: no cause.
	if errors.Unwrap(NotFoundf("x %v", any(a))) != nil {
		t.Error("a plain (non-%w) argument became a cause")
	}
}

func TestKindOfNone(t *testing.T) {
	for _, err := range []error{nil, errors.New("plain"), fmt.Errorf("a: %w", fs.ErrNotExist), errors.Join(errors.New("x"))} {
		if k := Kind(err); k != nil {
			t.Errorf("Kind(%v) = %v, want nil", err, k)
		}
	}
	// Joined errors: the first with a kind, depth first.
	j := errors.Join(errors.New("x"), fmt.Errorf("y: %w", Limit("z")), NotFound("w"))
	if Kind(j) != ErrLimit {
		t.Errorf("Kind(joined) = %v, want Limit", Kind(j))
	}
	// An error whose Is method names a kind has that kind.
	if Kind(fmt.Errorf("p: %w", isInvalid{})) != ErrInvalid {
		t.Error("an Is method naming a kind is not seen")
	}
}

type isInvalid struct{}

func (isInvalid) Error() string        { return "parse error" }
func (isInvalid) Is(target error) bool { return target == ErrInvalid }
