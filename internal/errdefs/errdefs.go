// Package errdefs defines the few kinds of error Dockyard distinguishes.
//
// Code anywhere wraps one of these sentinels with context, for example
//
//	fmt.Errorf("model %q: %w", name, errdefs.ErrNotFound)
//
// and only internal/api maps a kind to an HTTP status code. Messages say what
// went wrong and what to do; they never carry secrets.
package errdefs

import "errors"

// The error kinds. Wrap them; test with errors.Is or the Is* helpers.
var (
	ErrNotFound         = errors.New("not found")
	ErrConflict         = errors.New("conflict")
	ErrInvalid          = errors.New("invalid")
	ErrPermissionDenied = errors.New("permission denied")
	ErrUnauthenticated  = errors.New("unauthenticated")
	ErrUnavailable      = errors.New("unavailable")
	ErrLimit            = errors.New("limit exceeded")
)

// kinded is an error with a kind but a message of its own, so that the kind's
// word ("not found") is not appended to a message that already says it.
type kinded struct {
	kind error
	msg  string
}

func (e *kinded) Error() string        { return e.msg }
func (e *kinded) Is(target error) bool { return target == e.kind }

// New returns an error of the given kind whose text is exactly msg.
func New(kind error, msg string) error { return &kinded{kind: kind, msg: msg} }

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

// IsNotFound reports whether err is of kind ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is of kind ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err is of kind ErrInvalid.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsPermissionDenied reports whether err is of kind ErrPermissionDenied.
func IsPermissionDenied(err error) bool { return errors.Is(err, ErrPermissionDenied) }

// IsUnauthenticated reports whether err is of kind ErrUnauthenticated.
func IsUnauthenticated(err error) bool { return errors.Is(err, ErrUnauthenticated) }

// IsUnavailable reports whether err is of kind ErrUnavailable.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsLimit reports whether err is of kind ErrLimit.
func IsLimit(err error) bool { return errors.Is(err, ErrLimit) }
