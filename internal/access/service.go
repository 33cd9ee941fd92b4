package access

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/store"
)

// Options configure a Service. internal/config holds their defaults.
type Options struct {
	SessionTTL time.Duration // lifetime of a login session token
	// APITokenMaxTTL is the longest lifetime an API token may get; 0 means
	// no limit (and tokens created with ttl 0 never expire).
	APITokenMaxTTL time.Duration
	Password       Params          // argon2id cost of new password hashes
	Throttle       ThrottleOptions // failed-login throttling
	Clock          store.Clock     // nil: time.Now
}

// Service manages accounts: bootstrap, login, tokens, users and roles, and
// turns a user into a Principal. Capability checks for managing users and
// roles are the API layer's job; the Service enforces the token ownership
// rules and the invariants (built-in roles stay, the last admin stays,
// inheritance has no cycles).
type Service struct {
	st       store.AccessStore
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	throttle *Throttle
	// dummyHash is verified against when a login names an unknown user, so
	// that the answer takes as long as a wrong password would.
	dummyHash string
	// hashSlots bounds concurrent argon2 computations (each takes
	// opts.Password.Memory KiB).
	hashSlots chan struct{}
	// mu serialises changes whose checks read other rows (last admin,
	// inheritance cycles, roles in use).
	mu sync.Mutex
}

// errBadLogin is the one answer to a failed login, whether the user exists
// or not.
var errBadLogin = errdefs.Unauthenticated("invalid user name or password")

// NewService returns a Service over st. log may be nil (discard).
func NewService(st store.AccessStore, opts Options, log *slog.Logger) (*Service, error) {
	if opts.SessionTTL <= 0 {
		return nil, errdefs.Invalidf("session TTL %v must be positive", opts.SessionTTL)
	}
	if opts.APITokenMaxTTL < 0 {
		return nil, errdefs.Invalidf("API token max TTL %v must not be negative", opts.APITokenMaxTTL)
	}
	if err := opts.Password.Validate(); err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	th, err := NewThrottle(opts.Throttle, now)
	if err != nil {
		return nil, err
	}
	dummy, err := hashPassword(rand.Text(), opts.Password)
	if err != nil {
		return nil, err
	}
	return &Service{st: st, opts: opts, log: log, now: now, throttle: th, dummyHash: dummy,
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
}

func (s *Service) utcNow() time.Time { return s.now().UTC() }

// withHashSlot runs f while holding one of the argon2 slots.
func (s *Service) withHashSlot(ctx context.Context, f func()) error {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	f()
	return nil
}

// HashPassword checks password against the policy and hashes it with the
// service's parameters, for NewUser.PasswordHash and UserUpdate.PasswordHash.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	if err := CheckPasswordPolicy(password); err != nil {
		return "", err
	}
	return s.hash(ctx, password)
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var h string
	var err error
	if serr := s.withHashSlot(ctx, func() { h, err = HashPassword(password, s.opts.Password) }); serr != nil {
		return "", serr
	}
	return h, err
}

// Bootstrap creates the built-in roles that are missing (and brings admin
// up to every capability), and on first start the user "admin": with
// adminPassword, or when that is empty with a random password that it
// returns as generated, to be shown once. When a user with the admin role
// exists already it changes no user and returns created false.
func (s *Service) Bootstrap(ctx context.Context, adminPassword string) (generated string, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range BuiltinRoles() {
		have, err := s.st.GetRole(ctx, r.Name)
		switch {
		case errdefs.IsNotFound(err):
			r.Created = s.utcNow()
			if err := s.st.CreateRole(ctx, r); err != nil && !errdefs.IsConflict(err) {
				return "", false, fmt.Errorf("bootstrap: %w", err)
			}
			s.log.Info("created built-in role", "role", r.Name)
		case err != nil:
			return "", false, fmt.Errorf("bootstrap: %w", err)
		case !have.Builtin || r.Name == RoleAdmin && (!slices.Equal(have.Capabilities, r.Capabilities) ||
			!slices.Equal(have.SearchIndexes, r.SearchIndexes) || len(have.Inherit) > 0):
			if r.Name != RoleAdmin {
				r = have
				r.Builtin = true
			}
			if err := s.st.UpdateRole(ctx, r); err != nil {
				return "", false, fmt.Errorf("bootstrap: %w", err)
			}
		}
	}
	admins, err := s.admins(ctx)
	if err != nil {
		return "", false, fmt.Errorf("bootstrap: %w", err)
	}
	if len(admins) > 0 {
		return "", false, nil
	}
	password := adminPassword
	if password == "" {
		password = rand.Text() // 26 base32 characters, 130 bits
		generated = password
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return "", false, fmt.Errorf("admin password: %w", err)
	}
	now := s.utcNow()
	err = s.st.CreateUser(ctx, store.User{Name: AdminUser, PasswordHash: hash, Roles: []string{RoleAdmin},
		DefaultApp: DefaultApp, Created: now, Updated: now})
	if errdefs.IsConflict(err) {
		return "", false, errdefs.Conflictf("bootstrap: no user has the admin role but a user %q exists: give it the admin role directly in the store, or delete it", AdminUser)
	}
	if err != nil {
		return "", false, fmt.Errorf("bootstrap: %w", err)
	}
	s.log.Info("created admin user", "user", AdminUser, "password_generated", generated != "")
	return generated, true, nil
}

// Login checks user's password and returns a new session token's secret
// (shown once) and record. Unknown users and wrong passwords get the same
// error after the same argon2 work; repeated failures are throttled per
// user and per remote address (errdefs.ErrLimit, password not checked).
func (s *Service) Login(ctx context.Context, user, password, remoteAddr string) (string, store.Token, error) {
	u, err := s.CheckPassword(ctx, user, password, remoteAddr)
	if err != nil {
		return "", store.Token{}, err
	}
	return s.StartSession(ctx, u, remoteAddr)
}

// CheckPassword is Login's check of user's password, without the session:
// it returns the user, or the same error for an unknown user and a wrong
// password (throttled as Login says). It does the slow password work, so
// call it outside a store transaction, and StartSession within one.
func (s *Service) CheckPassword(ctx context.Context, user, password, remoteAddr string) (store.User, error) {
	if err := s.throttle.Allow(user, remoteAddr); err != nil {
		s.log.Warn("login throttled", "user", user, "remote", remoteAddr)
		return store.User{}, err
	}
	u, err := s.st.GetUser(ctx, user)
	if err != nil && !errdefs.IsNotFound(err) {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	known := err == nil && u.PasswordHash != ""
	hash := s.dummyHash
	if known {
		hash = u.PasswordHash
	}
	var ok bool
	var verr, terr error
	if err := s.withHashSlot(ctx, func() {
		// Ask again: failures recorded while this attempt waited for a
		// slot count too, or a burst of concurrent guesses would all pass
		// the first check before the first of them failed.
		if terr = s.throttle.Allow(user, remoteAddr); terr != nil {
			return
		}
		ok, verr = VerifyPassword(password, hash)
	}); err != nil {
		return store.User{}, err
	}
	if terr != nil {
		s.log.Warn("login throttled", "user", user, "remote", remoteAddr)
		return store.User{}, terr
	}
	if verr != nil {
		s.log.Error("stored password hash is unusable; reset the password", "user", user, "err", verr)
	}
	if !known || !ok || verr != nil {
		s.throttle.Fail(user, remoteAddr)
		s.log.Info("login failed", "user", user, "remote", remoteAddr)
		return store.User{}, errBadLogin
	}
	s.throttle.Succeed(user)
	if NeedsRehash(u.PasswordHash, s.opts.Password) {
		if h, err := s.hash(ctx, password); err == nil {
			u.PasswordHash, u.Updated = h, s.utcNow()
			if err := s.st.UpdateUser(ctx, u); err != nil {
				s.log.Warn("re-hashing password failed", "user", u.Name, "err", err)
			}
		}
	}
	return u, nil
}

// StartSession creates a session token for u, authenticated by
// CheckPassword, and returns its secret (shown once) and record.
func (s *Service) StartSession(ctx context.Context, u store.User, remoteAddr string) (string, store.Token, error) {
	secret, tok, err := s.newToken(ctx, u.Name, store.TokenSession, "", s.opts.SessionTTL)
	if err != nil {
		return "", store.Token{}, fmt.Errorf("login: %w", err)
	}
	store.AfterCommit(ctx, func() { s.log.Info("login", "user", u.Name, "remote", remoteAddr, "token_id", tok.ID) })
	return secret, tok, nil
}

// newToken creates and stores a token of kind for user; ttl 0 never expires.
func (s *Service) newToken(ctx context.Context, user, kind, name string, ttl time.Duration) (string, store.Token, error) {
	secret, hash, id, err := NewSecret(kind)
	if err != nil {
		return "", store.Token{}, err
	}
	now := s.utcNow()
	t := store.Token{ID: id, Kind: kind, Name: name, User: user, Hash: hash, Created: now}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := s.st.CreateToken(ctx, t); err != nil {
		return "", store.Token{}, err
	}
	t.Hash = ""
	return secret, t, nil
}

// EffectivePrincipal returns user as a Principal in app (the user's
// default app when empty, or the default app when the user may not read
// that), with roles, capabilities, search indexes and app permissions
// expanded through inheritance. An app the user may not read is "app not
// found", exactly as one that does not exist.
func (s *Service) EffectivePrincipal(ctx context.Context, user, app string) (*Principal, error) {
	u, err := s.st.GetUser(ctx, user)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.NotFoundf("user %q not found", user)
	}
	if err != nil {
		return nil, err
	}
	roles, err := s.roleMap(ctx)
	if err != nil {
		return nil, err
	}
	p := expand(u.Roles, roles)
	p.User = u.Name
	apps, err := s.st.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	p.Apps = appSet(p, apps)
	if p.App, err = contextApp(p, app, u.DefaultApp); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) roleMap(ctx context.Context) (map[string]store.Role, error) {
	list, err := s.st.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.Role, len(list))
	for _, r := range list {
		m[r.Name] = r
	}
	return m, nil
}

// expand follows inheritance from direct roles, collecting roles,
// capabilities and indexes. Missing roles are skipped; cycles end.
func expand(direct []string, roles map[string]store.Role) *Principal {
	p := &Principal{Caps: CapSet{}}
	seen := map[string]bool{}
	idx := map[string]bool{}
	queue := slices.Clone(direct)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		r, ok := roles[name]
		if seen[name] || !ok {
			continue
		}
		seen[name] = true
		p.Roles = append(p.Roles, name)
		for _, c := range r.Capabilities {
			p.Caps[Capability(c)] = true
		}
		for _, i := range r.SearchIndexes {
			idx[i] = true
		}
		queue = append(queue, r.Inherit...)
	}
	slices.Sort(p.Roles)
	for i := range idx {
		p.Indexes = append(p.Indexes, i)
	}
	slices.Sort(p.Indexes)
	return p
}

// admins returns the users holding the admin role, directly or inherited.
func (s *Service) admins(ctx context.Context) ([]string, error) {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := s.roleMap(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		if expand(u.Roles, roles).HasRole(RoleAdmin) {
			out = append(out, u.Name)
		}
	}
	return out, nil
}

// InTx runs fn in one transaction of the access store (store.Transactor):
// an account change and its audit event commit together.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.st.InTx(ctx, fn)
}
