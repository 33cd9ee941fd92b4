// Package knowledge is the one implementation of what models, lookups and
// notebooks have in common as knowledge objects: ownership, sharing
// (user, app, global) with read and write roles, app membership, name
// resolution, the name rules' answers, and the auditing of every change.
//
// The caller is the access.Principal in the context. Every answer about a
// name is the same for an object the caller may not read and for one that
// does not exist: private objects live in per-owner slots, and shared
// objects too (the store keeps them unique per owner), so creating,
// importing, sharing or pushing under a name never collides with an object
// the caller cannot see. A shared object the caller CAN see does collide,
// with a Conflict that names it, since it reveals nothing.
//
// Each kind (model, lookup, notebook) keeps its own store and types and
// calls a Kind for the shared decisions; Find, Collide, AuthorizeShare and
// Record are the only places those decisions are made.
package knowledge

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Object is what the package needs to know of one knowledge object.
type Object struct {
	ID   int64 // store id: among equally reachable objects the oldest wins
	Name string
	access.ACL
}

// Kind is one kind of knowledge object.
type Kind struct {
	// Noun names the kind in answers and audit objects: "model".
	Noun string
	// ValidateName is the kind's name rule.
	ValidateName func(name string) error
	// NotFoundHint, when set, follows "NOUN not found: NAME" (for
	// example how to create one); it must not depend on what exists.
	NotFoundHint func(name string) string

	rec audit.Recorder
	log *slog.Logger
	now func() time.Time
}

// NewKind returns a Kind that records changes to rec (nil: none) and logs
// audit failures to log (nil: discarded).
func NewKind(k Kind, rec audit.Recorder, log *slog.Logger) *Kind {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k.rec, k.log, k.now = rec, log, func() time.Time { return time.Now().UTC() }
	return &k
}

// SetRecorder changes where the kind's audit events go.
func (k *Kind) SetRecorder(rec audit.Recorder) { k.rec = rec }

// SetClock changes the clock of audit events (tests).
func (k *Kind) SetClock(now func() time.Time) { k.now = now }

// Caller returns the principal the request carries.
func Caller(ctx context.Context) (*access.Principal, error) {
	p := access.FromContext(ctx)
	if p == nil || p.User == "" {
		return nil, errdefs.Unauthenticated("no caller identity in the request: log in and try again")
	}
	return p, nil
}

// ContextApp returns the app names resolve in for p: app when given
// (which p must be able to read: "app not found" otherwise, the same
// answer as for an app that does not exist), else p's app context.
func ContextApp(p *access.Principal, app string) (string, error) {
	if app == "" {
		app = p.App
	}
	if app == "" {
		app = access.DefaultApp
	}
	if err := access.ValidateApp(app); err != nil {
		return "", err
	}
	if !p.CanReadApp(app) {
		return "", access.AppNotFound(app)
	}
	return app, nil
}

// NotFound is the one answer for an object that does not exist and for one
// the caller may not read.
func (k *Kind) NotFound(name string) error {
	msg := k.Noun + " not found: " + name
	if k.NotFoundHint != nil {
		msg += "; " + k.NotFoundHint(name)
	}
	return errdefs.NotFound(msg)
}

// Perms says what the caller may do with an object.
type Perms struct {
	Read  bool `json:"read"`
	Write bool `json:"write"`
	Share bool `json:"share"`
}

// PermsOf returns what p may do with an object.
func PermsOf(p *access.Principal, a access.ACL) Perms {
	return Perms{Read: p.CanRead(a), Write: p.CanWrite(a), Share: p.CanShare(a)}
}

// Query is a name to resolve.
type Query struct {
	App       string // the app context (see ContextApp)
	Name      string
	AppShared bool   // "app:NAME": skip the caller's private object
	Owner     string // "OWNER/NAME": only that owner's private object
	Write     bool   // only objects the caller may write count
}

// Find resolves q among cands (every object of that name, in any app) for
// p, in the seed's order: p's private object in the app, then the app's
// shared one, then one shared globally from another app; among equals the
// oldest. Objects p may not read are skipped; nothing left is NotFound.
func Find[T any](k *Kind, p *access.Principal, q Query, cands []T, obj func(T) Object) (T, error) {
	var zero T
	if err := k.ValidateName(q.Name); err != nil {
		return zero, err
	}
	sorted := slices.Clone(cands)
	slices.SortStableFunc(sorted, func(a, b T) int {
		oa, ob := obj(a), obj(b)
		return cmp.Or(cmp.Compare(oa.App, ob.App), cmp.Compare(oa.ID, ob.ID))
	})
	owner := p.User
	if q.Owner != "" {
		owner = q.Owner
	}
	allow := func(r access.Reach) bool {
		return !(q.AppShared && r == access.ReachPrivate) && !(q.Owner != "" && r != access.ReachPrivate)
	}
	acl := func(c T) access.ACL { return obj(c).ACL }
	best, ok := access.Resolve(sorted, acl, q.App, owner, allow, func(c T) bool {
		a := acl(c)
		return p.CanRead(a) && (!q.Write || p.CanWrite(a))
	})
	if !ok {
		return zero, k.NotFound(q.Name)
	}
	return best, nil
}

// Collide checks that an object of o's name may take sharing in app for
// owner o.Owner without clashing with a shared object p can see: a shared
// object of that name in app (other than o itself) that p may read is a
// Conflict; one p may not read does not count, so the answer is the same
// as if it did not exist. Private sharing never collides (each owner has
// their own slot).
func Collide[T any](k *Kind, p *access.Principal, o Object, sharing access.Sharing, cands []T, obj func(T) Object) error {
	if sharing == access.SharingUser {
		return nil
	}
	for _, c := range cands {
		x := obj(c)
		if x.ID == o.ID || x.App != o.App || x.Sharing == access.SharingUser || !p.CanRead(x.ACL) {
			continue
		}
		if x.Owner == o.Owner {
			return errdefs.Conflictf("%s already shares a %s %s in app %s: rename or delete one of them first", x.Owner, k.Noun, o.Name, o.App)
		}
		return errdefs.Conflictf("app %s already has a shared %s %s (owner %s): rename or delete one of them first", o.App, k.Noun, o.Name, x.Owner)
	}
	return nil
}

// AuthorizeSharing checks that p may put an object at sharing in app:
// private needs nothing more; app or global sharing needs write on the
// app (a refusal is audited).
func (k *Kind) AuthorizeSharing(ctx context.Context, p *access.Principal, action string, o Object, sharing access.Sharing) error {
	if sharing == access.SharingUser || p.CanWriteApp(o.App) {
		return nil
	}
	return k.Denied(ctx, p, action, o, fmt.Sprintf(
		"sharing %s %s at %s level needs write permission on app %s, which your roles (%s) do not have: ask an administrator (see `dockyard apps show %s`)",
		k.Noun, o.Name, sharing, o.App, strings.Join(p.Roles, ", "), o.App))
}

// Share checks a change of o's sharing and roles by p: p must own o or
// hold admin_all_objects, sharing beyond the owner needs write on the app,
// and a shared object p can see must not already hold the name. It
// returns the new ACL with the role lists checked, sorted and deduplicated.
func Share[T any](ctx context.Context, k *Kind, p *access.Principal, o Object, sharing access.Sharing, read, write []string, cands []T, obj func(T) Object) (access.ACL, error) {
	if _, err := access.ParseSharing(string(sharing)); err != nil {
		return access.ACL{}, err
	}
	var err error
	if read, err = ValidNames("read role", read); err != nil {
		return access.ACL{}, err
	}
	if write, err = ValidNames("write role", write); err != nil {
		return access.ACL{}, err
	}
	action := k.Noun + ".share"
	if !p.CanShare(o.ACL) {
		return access.ACL{}, k.Denied(ctx, p, action, o, fmt.Sprintf(
			"you may not change the sharing of %s %s: only its owner %s or a holder of admin_all_objects may", k.Noun, o.Name, o.Owner))
	}
	if err := k.AuthorizeSharing(ctx, p, action, o, sharing); err != nil {
		return access.ACL{}, err
	}
	if err := Collide(k, p, o, sharing, cands, obj); err != nil {
		return access.ACL{}, err
	}
	return access.ACL{Owner: o.Owner, App: o.App, Sharing: sharing, Read: read, Write: write}, nil
}

// ValidNames checks a list of role names or tags, and sorts and dedups it.
func ValidNames(kind string, names []string) ([]string, error) {
	out := []string{}
	for _, r := range names {
		r = strings.TrimSpace(r)
		if r == "" || strings.ContainsAny(r, ", \t\n") {
			return nil, errdefs.Invalidf("%s %q is not valid: use no spaces or commas", kind, r)
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// AuditObject names an object in audit events: NOUN:app/name, or
// NOUN:app/owner/name for a private one.
func (k *Kind) AuditObject(o Object) string {
	if o.Sharing == access.SharingUser {
		return k.Noun + ":" + o.App + "/" + o.Owner + "/" + o.Name
	}
	return k.Noun + ":" + o.App + "/" + o.Name
}

// Record writes the audit event of a change (or refusal) of o by p.
//
// A successful change's event joins the store transaction ctx carries (see
// store.Transactor): when it cannot be written, that transaction is marked
// failed and rolls back, so the change is never made without its event.
// The event of a refusal or failure is written once the transaction (if
// any) has ended, since the change it describes is rolled back. Errors are
// logged here; through store.Fail and the API's request state they still
// fail the request.
func (k *Kind) Record(ctx context.Context, p *access.Principal, action string, o Object, result, msg string, details map[string]any) {
	if k.rec == nil {
		return
	}
	if details == nil {
		details = map[string]any{}
	}
	details["owner"], details["sharing"] = o.Owner, string(o.Sharing)
	req := audit.RequestFrom(ctx)
	e := audit.Event{Time: k.now(), User: p.User, Action: action, Object: k.AuditObject(o), App: p.App,
		Result: result, Message: msg, Details: details, Source: req.Source, RequestID: req.ID}
	write := func(ctx context.Context) {
		if err := k.rec.Record(context.WithoutCancel(ctx), e); err != nil {
			store.Fail(ctx, err)
			k.log.ErrorContext(ctx, "audit record failed", "action", action, "object", e.Object, "err", err)
		}
	}
	if result == audit.ResultSuccess {
		write(ctx)
		return
	}
	store.AfterTx(ctx, write)
}

// Denied records a refused change and returns the error for it.
func (k *Kind) Denied(ctx context.Context, p *access.Principal, action string, o Object, msg string) error {
	k.Record(ctx, p, action, o, audit.ResultDenied, msg, nil)
	return errdefs.PermissionDenied(msg)
}
