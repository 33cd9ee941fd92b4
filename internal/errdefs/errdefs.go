// Package errdefs is Dockyard's vocabulary of error kinds: the kinds of
// github.com/containerd/errdefs, under the names Dockyard has always used.
//
// A kind is one of the sentinels below, which are containerd/errdefs's own
// values, so errors.Is(err, cerrdefs.ErrNotFound) and cerrdefs.IsNotFound
// hold for every Dockyard not-found error. Code anywhere makes an error of a
// kind in one of three ways:
//
//	fmt.Errorf("model %q: %w", name, errdefs.ErrNotFound)          // text ends in "not found"
//	errdefs.NotFound("no model M in app search; list them with `dockyard models list`")
//	errdefs.Invalidf("the meta is not valid JSON: %w", err)         // kind Invalid, cause err
//
// The formatted constructors (NotFoundf, Invalidf, ..., Newf) wrap a %w
// cause, which errors.Is and errors.As reach and the server logs, while the
// error's kind stays the constructor's: Kind returns the outermost kind in a
// chain, and every mapping to a protocol (package errhttp) uses it, so an
// Invalid whose cause is a NotFound answers as Invalid.
//
// Messages say what went wrong and what to do; they never carry secrets.
package errdefs

import (
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
)

// The error kinds: containerd/errdefs's values. Wrap them; test with
// errors.Is, the Is* helpers, or Kind.
var (
	ErrNotFound         = cerrdefs.ErrNotFound
	ErrConflict         = cerrdefs.ErrConflict
	ErrInvalid          = cerrdefs.ErrInvalidArgument
	ErrPermissionDenied = cerrdefs.ErrPermissionDenied
	ErrUnauthenticated  = cerrdefs.ErrUnauthenticated
	ErrUnavailable      = cerrdefs.ErrUnavailable
	ErrLimit            = cerrdefs.ErrResourceExhausted
	// ErrInternal is a failure that is nobody's fault but the program's.
	// An error of no kind is internal too; this kind exists so that a
	// client can give the kind back to an internal answer it decodes.
	ErrInternal = cerrdefs.ErrInternal
)

// Kinds lists every kind, in the order Kind tests them.
var Kinds = []error{ErrNotFound, ErrConflict, ErrInvalid, ErrPermissionDenied, ErrUnauthenticated,
	ErrUnavailable, ErrLimit, ErrInternal}

// kinded is an error with a kind but a message of its own, so that the kind's
// word ("not found") is not appended to a message that already says it. Its
// cause, when it has one, is what the message's %w named.
type kinded struct {
	kind  error
	msg   string
	cause error
}

func (e *kinded) Error() string        { return e.msg }
func (e *kinded) Is(target error) bool { return target == e.kind }
func (e *kinded) Unwrap() error        { return e.cause }

// kindedJoin is a kinded error whose message named several causes with %w.
type kindedJoin struct {
	kind   error
	msg    string
	causes []error
}

func (e *kindedJoin) Error() string        { return e.msg }
func (e *kindedJoin) Is(target error) bool { return target == e.kind }
func (e *kindedJoin) Unwrap() []error      { return e.causes }

// New returns an error of the given kind whose text is exactly msg.
func New(kind error, msg string) error { return &kinded{kind: kind, msg: msg} }

// Newf returns an error of the given kind whose text is exactly
// fmt.Sprintf(format, args...) and which wraps the arguments of its %w
// verbs (as fmt.Errorf does). Its kind is kind whatever the causes' kinds.
func Newf(kind error, format string, args ...any) error {
	f := fmt.Errorf(format, args...)
	switch u := f.(type) {
	case interface{ Unwrap() []error }:
		return &kindedJoin{kind: kind, msg: f.Error(), causes: u.Unwrap()}
	case interface{ Unwrap() error }:
		return &kinded{kind: kind, msg: f.Error(), cause: u.Unwrap()}
	}
	return &kinded{kind: kind, msg: f.Error()}
}

// Wrap returns an error of the given kind whose text is exactly msg and
// which wraps cause without repeating its text (the server logs the whole
// chain; the message says what to do).
func Wrap(kind error, cause error, msg string) error {
	return &kinded{kind: kind, msg: msg, cause: cause}
}

// Kind returns the outermost kind in err's chain: the kind of the first
// error, walking from err through what it wraps (depth first), that is of
// one of Kinds. It returns nil when err is nil or has no kind, which the
// protocols answer as internal.
func Kind(err error) error {
	for err != nil {
		if k := ownKind(err); k != nil {
			return k
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if k := Kind(e); k != nil {
					return k
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// ownKind is the kind err itself is, not counting what it wraps.
func ownKind(err error) error {
	switch e := err.(type) {
	case *kinded:
		return e.kind
	case *kindedJoin:
		return e.kind
	}
	for _, k := range Kinds {
		if err == k {
			return k
		}
	}
	if is, ok := err.(interface{ Is(error) bool }); ok {
		for _, k := range Kinds {
			if is.Is(k) {
				return k
			}
		}
	}
	return nil
}

// NotFound returns an ErrNotFound whose message is exactly msg.
func NotFound(msg string) error { return New(ErrNotFound, msg) }

// Conflict returns an ErrConflict whose message is exactly msg.
func Conflict(msg string) error { return New(ErrConflict, msg) }

// Invalid returns an ErrInvalid whose message is exactly msg.
func Invalid(msg string) error { return New(ErrInvalid, msg) }

// PermissionDenied returns an ErrPermissionDenied whose message is exactly msg.
func PermissionDenied(msg string) error { return New(ErrPermissionDenied, msg) }

// Unauthenticated returns an ErrUnauthenticated whose message is exactly msg.
func Unauthenticated(msg string) error { return New(ErrUnauthenticated, msg) }

// Unavailable returns an ErrUnavailable whose message is exactly msg.
func Unavailable(msg string) error { return New(ErrUnavailable, msg) }

// Limit returns an ErrLimit whose message is exactly msg.
func Limit(msg string) error { return New(ErrLimit, msg) }

// Internal returns an ErrInternal whose message is exactly msg.
func Internal(msg string) error { return New(ErrInternal, msg) }

// NotFoundf is Newf(ErrNotFound, format, args...).
func NotFoundf(format string, args ...any) error { return Newf(ErrNotFound, format, args...) }

// Conflictf is Newf(ErrConflict, format, args...).
func Conflictf(format string, args ...any) error { return Newf(ErrConflict, format, args...) }

// Invalidf is Newf(ErrInvalid, format, args...).
func Invalidf(format string, args ...any) error { return Newf(ErrInvalid, format, args...) }

// PermissionDeniedf is Newf(ErrPermissionDenied, format, args...).
func PermissionDeniedf(format string, args ...any) error {
	return Newf(ErrPermissionDenied, format, args...)
}

// Unauthenticatedf is Newf(ErrUnauthenticated, format, args...).
func Unauthenticatedf(format string, args ...any) error {
	return Newf(ErrUnauthenticated, format, args...)
}

// Unavailablef is Newf(ErrUnavailable, format, args...).
func Unavailablef(format string, args ...any) error { return Newf(ErrUnavailable, format, args...) }

// Limitf is Newf(ErrLimit, format, args...).
func Limitf(format string, args ...any) error { return Newf(ErrLimit, format, args...) }

// Internalf is Newf(ErrInternal, format, args...).
func Internalf(format string, args ...any) error { return Newf(ErrInternal, format, args...) }

// The Is* helpers report whether err's kind (Kind: the outermost kind in
// its chain) is the one named, so that an Invalid whose cause is a NotFound
// is not taken for a missing object. errors.Is(err, ErrNotFound) instead
// reports whether a NotFound is anywhere in the chain.

// IsNotFound reports whether err's kind is ErrNotFound.
func IsNotFound(err error) bool { return Kind(err) == ErrNotFound }

// IsConflict reports whether err's kind is ErrConflict.
func IsConflict(err error) bool { return Kind(err) == ErrConflict }

// IsInvalid reports whether err's kind is ErrInvalid.
func IsInvalid(err error) bool { return Kind(err) == ErrInvalid }

// IsPermissionDenied reports whether err's kind is ErrPermissionDenied.
func IsPermissionDenied(err error) bool { return Kind(err) == ErrPermissionDenied }

// IsUnauthenticated reports whether err's kind is ErrUnauthenticated.
func IsUnauthenticated(err error) bool { return Kind(err) == ErrUnauthenticated }

// IsUnavailable reports whether err's kind is ErrUnavailable.
func IsUnavailable(err error) bool { return Kind(err) == ErrUnavailable }

// IsLimit reports whether err's kind is ErrLimit.
func IsLimit(err error) bool { return Kind(err) == ErrLimit }

// IsInternal reports whether err's kind is ErrInternal.
func IsInternal(err error) bool { return Kind(err) == ErrInternal }
